#include <catch2/catch.hpp>

#include "core/units.h"

using namespace podmedic;
using namespace std::chrono_literals;

TEST_CASE("durations parse in the config's units") {
  struct Row {
    const char* in;
    std::chrono::milliseconds want;
  };
  for (auto [in, want] : {Row{"30s", 30s}, Row{"5m", 5min}, Row{"1h", 1h}, Row{"250ms", 250ms},
                          Row{"1h30m", 90min}, Row{"0", 0ms}, Row{"1.5s", 1500ms}}) {
    auto r = parse_duration(in);
    INFO(in);
    REQUIRE(r.ok());
    CHECK(r.value() == want);
  }
  for (const char* bad : {"", "5", "5x", "m", "-1s", "5 m"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).ok());
  }
  CHECK(parse_duration("5q").error().message.find("unit must be") != std::string::npos);
}

TEST_CASE("sizes parse in bytes binary and decimal units") {
  CHECK(parse_size("8000").value() == 8000);
  CHECK(parse_size("64KiB").value() == 64 * 1024);
  CHECK(parse_size("2MiB").value() == 2 * 1024 * 1024);
  CHECK(parse_size("10KB").value() == 10000);
  CHECK_FALSE(parse_size("2 MiB").ok());
  CHECK_FALSE(parse_size("lots").ok());
  CHECK_FALSE(parse_size("1TiB").ok());
}

TEST_CASE("format_duration round-trips whole units") {
  CHECK(format_duration(5min) == "5m");
  CHECK(format_duration(4h) == "4h");
  CHECK(format_duration(1500ms) == "1500ms");
}

TEST_CASE("RFC3339 timestamps convert to Unix seconds") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2024-05-01T10:00:00Z") == 1714557600);
  CHECK(parse_rfc3339("2024-05-01T10:00:00.123456Z") == 1714557600);
  CHECK(parse_rfc3339("2024-05-01T12:00:00+02:00") == 1714557600);
  CHECK(parse_rfc3339("") == 0);
  CHECK(parse_rfc3339("null") == 0);
  CHECK(parse_rfc3339("2024-13-01T10:00:00Z") == 0);
  CHECK(format_rfc3339(1714557600) == "2024-05-01T10:00:00Z");
}
