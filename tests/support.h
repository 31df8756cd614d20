#pragma once
// Shared test helpers: fixture loading, padded buffers for the decoder, and driving an
// io_context until a condition holds (a deadline poll, never a sleep).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>

#include "k8s/decode.h"

namespace podmedic::test {

// A fresh directory under /tmp (mkdtemp), removed with what is in it when this goes out of scope.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/podmedic-test-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (!made) std::abort();  // the test machine cannot make a directory: nothing to test
    path = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Writes `text` to path/name; returns the file's path.
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path / name;
    std::ofstream(p) << text;
    return p.string();
  }
  // An executable shell script path/name running `body`; returns its path.
  std::string script(const std::string& name, const std::string& body) const {
    auto p = write(name, "#!/bin/sh\n" + body + "\n");
    std::error_code ec;
    std::filesystem::permissions(p, std::filesystem::perms::owner_all, ec);
    return p;
  }
};

// A scratch directory removed (with what is in it) when this goes out of scope; declare it before
// the pipelines and writers that may still write there, so it is removed after them. Starts empty.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(std::filesystem::path p) : path(std::move(p)) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

inline std::string source_dir() {
  const char* d = std::getenv("PODMEDIC_SOURCE_DIR");
  return d ? d : ".";
}

inline std::string read_fixture(const std::string& rel) {
  std::ifstream f(source_dir() + "/tests/fixtures/" + rel, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The whole file, as bytes ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The value of the counter `family` whose labels include every pair of `labels`; -1 when
// no such series exists.
inline double counter_value(prometheus::Registry& registry, const std::string& family,
                            const std::map<std::string, std::string>& labels) {
  for (auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (auto& m : f.metric) {
      std::size_t matched = 0;
      for (auto& l : m.label) {
        auto it = labels.find(l.name);
        matched += it != labels.end() && it->second == l.value;
      }
      if (matched == labels.size()) return m.counter.value;
    }
  }
  return -1;
}

// A string with k8s::kJsonPadding spare capacity, as the decoder requires.
struct Padded {
  std::string s;
  explicit Padded(std::string text) : s(std::move(text)) {
    s.reserve(s.size() + k8s::kJsonPadding);
  }
  std::string_view view() const { return s; }
  std::size_t capacity() const { return s.capacity(); }
};

// Runs `ioc` in small slices until `done()` or the deadline; returns done().
template <class Pred>
bool run_until(boost::asio::io_context& ioc, Pred done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (ioc.stopped()) ioc.restart();
    ioc.run_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Polls `done()` (progress made by other threads or processes) until it holds or the deadline.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace podmedic::test
