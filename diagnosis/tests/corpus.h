#pragma once
// Loaders for the redaction corpora under diagnosis/tests/data/ (format described at the top of
// each file), shared by the unit tests, bench/redact_bench.cpp and end-to-end tests.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace podmedic::test {

struct SecretShape {
  std::string name;
  std::string text;                  // the input, verbatim
  std::vector<std::string> secrets;  // each must be absent once redacted
};

// Directory of the corpora: $PODMEDIC_SOURCE_DIR/diagnosis/tests/data, else next to this file.
inline std::string corpus_dir() {
  if (const char* src = std::getenv("PODMEDIC_SOURCE_DIR"))
    return std::string(src) + "/diagnosis/tests/data";
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/data";
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<SecretShape> load_secret_shapes(const std::string& path = corpus_dir() +
                                                                             "/secret_shapes.txt") {
  std::vector<SecretShape> out;
  std::vector<std::string> body;
  auto close = [&] {
    if (out.empty()) return;
    while (!body.empty() && body.back().empty()) body.pop_back();
    for (std::size_t i = 0; i < body.size(); ++i) out.back().text += (i ? "\n" : "") + body[i];
    body.clear();
  };
  for (const auto& line : read_lines(path)) {
    if (line.rfind("== ", 0) == 0) {
      close();
      out.push_back({line.substr(3), "", {}});
    } else if (out.empty() || line.rfind("#", 0) == 0) {
      continue;
    } else if (line.rfind("!! ", 0) == 0 && body.empty()) {
      out.back().secrets.push_back(line.substr(3));
    } else {
      body.push_back(line);
    }
  }
  close();
  return out;
}

inline std::vector<std::string> load_ordinary_lines(
    const std::string& path = corpus_dir() + "/ordinary_lines.txt") {
  std::vector<std::string> out;
  for (auto& line : read_lines(path))
    if (!line.empty() && line[0] != '#') out.push_back(std::move(line));
  return out;
}

}  // namespace podmedic::test
