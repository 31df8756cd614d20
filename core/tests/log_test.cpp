#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"

namespace {
std::vector<std::string>& captured() {
  static std::vector<std::string> lines;
  return lines;
}
void capture(std::string_view line) {
  captured().emplace_back(line);
}
}  // namespace

TEST_CASE("JSON log lines carry ts level component msg and fields") {
  using namespace podmedic;
  captured().clear();
  log::init(log::Level::kInfo, log::Format::kJson);
  log::set_sink(&capture);
  log::info("watcher", "relisted", {{"resource", "pods"}, {"items", 3}});
  log::debug("watcher", "hidden");
  log::set_sink(nullptr);
  REQUIRE(captured().size() == 1);
  auto j = nlohmann::json::parse(captured()[0]);
  CHECK(j["level"] == "info");
  CHECK(j["component"] == "watcher");
  CHECK(j["msg"] == "relisted");
  CHECK(j["items"] == 3);
  CHECK(j["ts"].get<std::string>().back() == 'Z');
}

TEST_CASE("rate-limited logging writes a key once per interval") {
  using namespace podmedic;
  captured().clear();
  log::init(log::Level::kInfo, log::Format::kJson);
  log::set_sink(&capture);
  log::RateLimited rl(std::chrono::hours(1));
  for (int i = 0; i < 100; ++i) rl.write(log::Level::kWarn, "watcher", "malformed", "bad line");
  rl.write(log::Level::kWarn, "watcher", "other", "other problem");
  log::set_sink(nullptr);
  CHECK(captured().size() == 2);
}

TEST_CASE("invalid UTF-8 in fields does not throw") {
  using namespace podmedic;
  captured().clear();
  log::init(log::Level::kInfo, log::Format::kJson);
  log::set_sink(&capture);
  log::info("k8s", "odd", {{"line", std::string("ab\xff\xfe")}});
  log::set_sink(nullptr);
  REQUIRE(captured().size() == 1);
  CHECK_NOTHROW(nlohmann::json::parse(captured()[0]));
}
