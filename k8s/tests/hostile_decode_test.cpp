// Pods, events and Status bodies as a hostile API server writes them: integers out of every
// range, wrong JSON types where strings and numbers belong. Nothing throws; integers saturate
// (never wrap); what cannot be read is an error value.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "k8s/decode.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::k8s;
using test::Padded;

namespace {

Result<Ok> decode_pod_with_status(Decoder& d, const std::string& container_status, PodView& pod) {
  Padded line(R"J({"type":"MODIFIED","object":{"metadata":{"namespace":"a","name":"p"},)J"
              R"J("status":{"containerStatuses":[)J" +
              container_status + "]}}}");
  WatchHeader hdr;
  return d.watch_pod(line.view(), line.capacity(), hdr, pod);
}

}  // namespace

TEST_CASE("a restartCount beyond uint32 saturates instead of wrapping") {
  Interner in;
  Decoder d(in);
  PodView pod;
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  struct Row {
    const char* written;
    std::uint32_t want;
  };
  for (auto row : {Row{"4294967303", kMax}, Row{"-3", 0}, Row{"99999999999999999999", kMax},
                   Row{"18446744073709551615", kMax}, Row{"1e30", kMax}, Row{"-1e30", 0},
                   Row{"12.0", 12}, Row{"4294967295", kMax}, Row{"41", 41}}) {
    INFO(row.written);
    auto r = decode_pod_with_status(
        d, std::string(R"J({"name":"app","restartCount":)J") + row.written + "}", pod);
    REQUIRE(r.ok());
    REQUIRE(pod.containers.size() == 1);
    CHECK(pod.containers[0].restart_count == row.want);
  }
}

TEST_CASE("a fractional restartCount is a decode error, wrong types read as unset") {
  Interner in;
  Decoder d(in);
  PodView pod;
  CHECK_FALSE(decode_pod_with_status(d, R"J({"name":"app","restartCount":2.5})J", pod).ok());
  for (const char* v : {R"("7")", "null", "true", "[1]", R"({"n":1})"}) {
    INFO(v);
    auto r =
        decode_pod_with_status(d, std::string(R"J({"name":"app","restartCount":)J") + v + "}", pod);
    REQUIRE(r.ok());
    CHECK(pod.containers[0].restart_count == 0);
  }
}

TEST_CASE("exit codes and event counts saturate into int32") {
  Interner in;
  Decoder d(in);
  PodView pod;
  REQUIRE(
      decode_pod_with_status(
          d,
          R"J({"name":"app","lastState":{"terminated":{"exitCode":4294967433,"reason":"Error"}}})J",
          pod)
          .ok());
  CHECK(pod.containers[0].last.exit_code == std::numeric_limits<std::int32_t>::max());
  REQUIRE(decode_pod_with_status(
              d, R"J({"name":"app","state":{"terminated":{"exitCode":-99999999999}}})J", pod)
              .ok());
  CHECK(pod.containers[0].state.exit_code == std::numeric_limits<std::int32_t>::min());

  WatchHeader hdr;
  EventView ev;
  Padded count(
      R"J({"type":"ADDED","object":{"metadata":{"namespace":"a","name":"e"},"count":4294967303}})J");
  REQUIRE(d.watch_event(count.view(), count.capacity(), hdr, ev).ok());
  CHECK(ev.count == std::numeric_limits<std::int32_t>::max());
  Padded series(
      R"J({"type":"ADDED","object":{"metadata":{"namespace":"a","name":"e"},"series":{"count":8589934593}}})J");
  REQUIRE(d.watch_event(series.view(), series.capacity(), hdr, ev).ok());
  CHECK(ev.count == std::numeric_limits<std::int32_t>::max());
}

TEST_CASE("wrong JSON types in watch lines are tolerated or errors, never exceptions") {
  Interner in;
  Decoder d(in);
  WatchHeader hdr;
  PodView pod;
  EventView ev;
  for (
      const char* text : {
          R"J({"type":5,"object":{}})J",
          R"J({"type":"ADDED","object":[]})J",
          R"J({"type":"ADDED","object":{"metadata":{"name":7,"namespace":["a"]}}})J",
          R"J({"type":"ADDED","object":{"metadata":"x","spec":5,"status":"y"}})J",
          R"J({"type":"MODIFIED","object":{"metadata":{"namespace":"a","name":"p"},"spec":{"containers":{"a":1}},"status":{"containerStatuses":[5,"x",null]}}})J",
          R"J({"type":"ERROR","object":{"kind":null,"code":"gone","details":{"retryAfterSeconds":"soon"}}})J",
          R"J({"type":"ERROR","object":{"code":4294967706,"details":{"retryAfterSeconds":-5}}})J",
          R"J({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":12}}})J",
          R"J([1,2,3])J",
          R"J("just a string")J",
          "\xff\xfe{garbage",
          "",
      }) {
    INFO(text);
    Padded line(text);
    auto r = d.watch_pod(line.view(), line.capacity(), hdr, pod);
    if (r.ok()) CHECK(hdr.type_name.size() <= 32);
    (void)d.watch_event(line.view(), line.capacity(), hdr, ev);
  }
  Padded error(
      R"J({"type":"ERROR","object":{"code":4294967706,"details":{"retryAfterSeconds":-5}}})J");
  REQUIRE(d.watch_pod(error.view(), error.capacity(), hdr, pod).ok());
  CHECK(hdr.status.code == std::numeric_limits<int>::max());
  CHECK(hdr.status.retry_after_seconds == 0);
}

TEST_CASE("Status bodies with null and wrong-typed fields keep the HTTP facts") {
  struct Row {
    const char* body;
    int code;
    const char* reason;
    int retry_after;
    bool wrong_type;
  };
  for (auto row : {
           // Not a Status: the HTTP facts stand, whatever the body's code says.
           Row{R"({"kind":null,"code":503})", 500, "InternalError", 0, false},
           Row{R"({"kind":5,"code":503})", 500, "InternalError", 0, true},
           Row{R"({"kind":"Status","code":"410","reason":7,"message":["x"]})", 500, "InternalError",
               0, true},
           Row{R"({"kind":"Status","code":4294967706,"reason":"Expired"})", 500, "Expired", 0,
               true},
           Row{R"({"kind":"Status","code":410,"reason":"Expired","details":"soon"})", 410,
               "Expired", 0, true},
           Row{R"({"kind":"Status","code":429,"details":{"retryAfterSeconds":"5"}})", 429,
               "TooManyRequests", 0, true},
           Row{R"({"kind":"Status","code":429,"details":{"retryAfterSeconds":99999999999}})", 429,
               "TooManyRequests", 0, true},
           Row{R"({"kind":"Status","code":429,"details":{"retryAfterSeconds":-3}})", 429,
               "TooManyRequests", 0, true},
           Row{R"({"kind":"Status","code":429,"details":{"retryAfterSeconds":3}})", 429,
               "TooManyRequests", 3, false},
           Row{R"({"kind":"Status","code":null,"reason":null,"message":null,"details":null})", 500,
               "InternalError", 0, false},
           Row{"not json at all\nsecond line", 500, "InternalError", 0, false},
           Row{"", 500, "InternalError", 0, false},
           Row{"[1,2]", 500, "InternalError", 0, false},
       }) {
    INFO(row.body);
    Status st = parse_status(500, row.body);
    CHECK(st.code == row.code);
    CHECK(st.reason == row.reason);
    CHECK(st.retry_after_seconds == row.retry_after);
    CHECK(st.wrong_type == row.wrong_type);
  }
  // Plain text: the first line, bounded, made valid UTF-8.
  Status text = parse_status(429, "Too many requests \xff\n" + std::string(10000, 'x'));
  CHECK(text.message == "Too many requests \xEF\xBF\xBD");
  Status huge = parse_status(500, std::string(1 << 20, 'y'));
  CHECK(huge.message.size() <= kMaxMessageBytes);
}
