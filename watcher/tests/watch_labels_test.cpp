// Label values only from fixed sets: whatever event types a peer makes up (1,000 of them, one cut
// in the middle of a UTF-8 character, one with bytes that are not UTF-8 at all), the watch
// metrics keep the same series and /metrics stays valid UTF-8.
#include <catch2/catch.hpp>

#include <set>

#include <prometheus/text_serializer.h>

#include "core/text.h"
#include "tests/integration/harness.h"

using namespace podmedic;
using namespace podmedic::test;

namespace {

std::size_t series(prometheus::Registry& r) {
  std::size_t n = 0;
  for (auto& f : r.Collect()) n += f.metric.size();
  return n;
}

}  // namespace

TEST_CASE("the UTF-8 check used below rejects cut and invalid sequences") {
  CHECK(text::is_valid_utf8("ADDED é ✓ 😀"));
  CHECK_FALSE(text::is_valid_utf8("cut \xC3"));
  CHECK_FALSE(text::is_valid_utf8("bad \xFF here"));
  CHECK_FALSE(text::is_valid_utf8("\xE2\x9C"));
}

TEST_CASE("made-up watch event types count as other and add no series") {
  Harness h;
  h.add_pod("shop", "a");
  h.start(fast_options(), false);
  REQUIRE(h.run_until_converged());
  auto unknown = [&] {
    return h.counter("podmedic_watch_decode_errors_total", {{"kind", "unknown_type"}});
  };
  // One unknown type and one malformed line first: the decode-error series appear on first use.
  auto object = std::string(R"(,"object":{"kind":"Pod","metadata":{"resourceVersion":"1"}}})");
  h.server.inject_raw_line(R"({"type":"FIRST")" + object);
  h.server.inject_malformed_line();
  REQUIRE(run_until(h.ioc, [&] {
    return unknown() == 1 &&
           h.counter("podmedic_watch_decode_errors_total", {{"kind", "malformed"}}) == 1;
  }));
  const auto before = series(h.registry);
  for (int i = 0; i < 1000; ++i)
    h.server.inject_raw_line(R"({"type":"BOGUS-)" + std::to_string(i) + "\"" + object);
  // 31 ASCII bytes then "é": the decoder keeps 32 bytes of a type name, which cuts the character.
  h.server.inject_raw_line(R"({"type":")" + std::string(31, 'T') + "\xC3\xA9\"" + object);
  // Not UTF-8 at all: the line is malformed (counted), never a label.
  h.server.inject_raw_line(R"({"type":"\xFF\xFE")" + object);
  REQUIRE(run_until(h.ioc, [&] { return unknown() >= 1002; }));
  h.add_pod("shop", "b");  // after every injected line on the same stream
  REQUIRE(h.run_until_converged());
  CHECK(unknown() == 1002);
  CHECK(h.counter("podmedic_watch_decode_errors_total", {{"kind", "malformed"}}) == 2);

  CHECK(series(h.registry) == before);
  CHECK(h.counter("podmedic_watch_events_total", {{"resource", "pods"}, {"type", "other"}}) ==
        1002);
  const std::set<std::string> fixed{"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR", "other"};
  for (auto& f : h.registry.Collect()) {
    if (f.name != "podmedic_watch_events_total") continue;
    for (auto& m : f.metric)
      for (auto& l : m.label)
        if (l.name == "type") CHECK(fixed.count(l.value) == 1);
  }
  const std::string exposition = prometheus::TextSerializer().Serialize(h.registry.Collect());
  CHECK(text::is_valid_utf8(exposition));
  CHECK(exposition.find("BOGUS") == std::string::npos);
  CHECK(exposition.find("TTTT") == std::string::npos);
}
