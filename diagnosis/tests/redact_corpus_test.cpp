// The two redaction corpora (diagnosis/tests/data): every secret shape fully masked, every
// ordinary log line unchanged — alone, and mixed together in one log as kubelet returns it.
#include <catch2/catch.hpp>

#include "diagnosis/redact.h"
#include "diagnosis/tests/corpus.h"

using namespace podmedic;
using namespace podmedic::diagnosis;

TEST_CASE("corpus: every secret shape is fully masked") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  const auto shapes = test::load_secret_shapes();
  REQUIRE(shapes.size() >= 80);
  std::size_t caught = 0;
  for (const auto& s : shapes) {
    REQUIRE_FALSE(s.secrets.empty());
    const std::string out = r->redact(s.text);
    bool ok = true;
    for (const auto& secret : s.secrets) {
      INFO(s.name << ":\n" << s.text << "\n->\n" << out);
      CHECK(out.find(secret) == std::string::npos);
      ok = ok && out.find(secret) == std::string::npos;
    }
    caught += ok;
  }
  CHECK(caught == shapes.size());
}

TEST_CASE("corpus: ordinary log lines come out unchanged") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  const auto lines = test::load_ordinary_lines();
  REQUIRE(lines.size() >= 200);
  std::string all;
  for (const auto& line : lines) {
    INFO(line);
    CHECK(r->redact(line) == line);
    all += line + "\n";
  }
  // As one log: no rule or propagated value reaches across lines.
  CHECK(r->redact(all) == all);
}

TEST_CASE("corpus: secrets planted in an ordinary log are masked and the rest kept") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  const auto shapes = test::load_secret_shapes();
  const auto lines = test::load_ordinary_lines();
  // Every shape between two ordinary lines; a key block cut before its END goes last, since it
  // is masked to the end of the text by design.
  std::string log, cut;
  std::size_t li = 0;
  for (const auto& s : shapes) {
    if (s.text.find("-----BEGIN") != std::string::npos &&
        s.text.find("-----END") == std::string::npos) {
      cut = s.text;
      continue;
    }
    log += lines[li++ % lines.size()] + "\n" + s.text + "\n";
  }
  std::vector<std::string> kept;
  for (; li < lines.size(); ++li) {
    log += lines[li] + "\n";
    kept.push_back(lines[li]);
  }
  REQUIRE_FALSE(cut.empty());
  log += cut + "\n";
  const std::string out = r->redact(log);
  for (const auto& s : shapes)
    for (const auto& secret : s.secrets) {
      INFO(s.name);
      CHECK(out.find(secret) == std::string::npos);
    }
  for (const auto& line : kept) {
    INFO(line);
    CHECK(out.find(line + "\n") != std::string::npos);
  }
}
