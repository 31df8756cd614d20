#pragma once
// Loaders for the redaction corpora under diagnosis/tests/data/ (format described at the top of
// each file) and the crash-log corpus under data/crashlogs/ (its README.md), shared by the unit
// tests, bench/redact_bench.cpp, bench/selector_bench.cpp and end-to-end tests.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

struct CrashLog {
  std::string name;                 // file name without .log
  std::string text;                 // the log, verbatim
  std::vector<std::string> causes;  // <name>.expect: the root-cause lines, ANSI codes removed
};

// Every <name>.log of the crash-log corpus with its labels, by name.
inline std::vector<CrashLog> load_crash_logs(const std::string& dir = corpus_dir() + "/crashlogs") {
  std::vector<CrashLog> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto path = it->path();
    if (path.extension() != ".log") continue;
    CrashLog log;
    log.name = path.stem().string();
    std::ifstream in(path, std::ios::binary);
    log.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    auto expect = path;
    for (auto& line : read_lines(expect.replace_extension(".expect").string()))
      if (!line.empty()) log.causes.push_back(std::move(line));
    out.push_back(std::move(log));
  }
  std::sort(out.begin(), out.end(),
            [](const CrashLog& a, const CrashLog& b) { return a.name < b.name; });
  return out;
}

}  // namespace podmedic::test
