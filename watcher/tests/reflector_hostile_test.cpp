// The reflector against a hostile API server: garbage and huge list bodies, wrong-typed Status
// bodies and watch lines, absurd integers, unknown event types, oversized lines and connection
// resets. Each failure ends one line or one attempt, is counted, and the reflector relists and
// re-watches until its store matches what the server finally says.
#include <catch2/catch.hpp>

#include <limits>

#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>

#include "core/peer_errors.h"
#include "k8s/tests/raw_server.h"
#include "tests/support.h"
#include "watcher/event_store.h"
#include "watcher/pod_store.h"
#include "watcher/reflector.h"

using namespace podmedic;
using podmedic::test::RawReply;
using podmedic::test::RawServer;
using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

std::string pod(const std::string& name, const std::string& rv, const std::string& restarts) {
  return R"({"metadata":{"namespace":"a","name":")" + name + R"(","resourceVersion":")" + rv +
         R"("},"status":{"containerStatuses":[{"name":"app","restartCount":)" + restarts + "}]}}";
}
std::string list(const std::string& rv, const std::string& items) {
  return R"({"kind":"PodList","metadata":{"resourceVersion":")" + rv + R"("},"items":[)" + items +
         "]}";
}
std::string watch_line(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

struct Fixture {
  net::io_context ioc;
  prometheus::Registry registry;
  PeerErrors errors{registry};
  watcher::WatchMetrics metrics{registry};
  Interner interner;
  watcher::PodStore pods{interner, &metrics};
  std::unique_ptr<RawServer> server;
  std::unique_ptr<k8s::KubeClient> client;
  std::unique_ptr<watcher::Reflector> reflector;
  bool died = false;

  explicit Fixture(RawServer::Handler h,
                   std::chrono::milliseconds max_retry_after = std::chrono::seconds(30)) {
    server = std::make_unique<RawServer>(ioc, std::move(h));
    k8s::ClusterConnection c;
    REQUIRE(k8s::parse_server_url(server->url(), c).ok());
    client = std::make_unique<k8s::KubeClient>(ioc.get_executor(), c, &errors);
    watcher::ReflectorOptions o;
    o.backoff.initial = 5ms;
    o.backoff.cap = 20ms;
    o.max_retry_after = max_retry_after;
    o.max_list_bytes = 64 * 1024;
    o.max_line_bytes = 16 * 1024;
    reflector =
        std::make_unique<watcher::Reflector>(*client, k8s::Resource::kPods, o, pods, metrics);
    net::co_spawn(ioc, reflector->run(), [this](std::exception_ptr e) { died = e != nullptr; });
  }
  double peer(PeerFault f) const { return errors.value(Peer::kApiServer, f); }
  std::uint32_t restarts(const std::string& name) const {
    const auto* p = pods.find("a", name);
    return p && !p->containers.empty() ? p->containers[0].restart_count : 0;
  }
};

}  // namespace

TEST_CASE("the reflector survives a hostile API server and converges on its final answer") {
  // Longer than a read chunk (64 KiB), so it is seen growing past max_line_bytes unterminated.
  const std::string huge_line(200 * 1024, 'x');
  auto handler = [&](const std::string& target, std::size_t n) -> RawReply {
    if (target.find("watch=1") == std::string::npos) {  // lists
      switch (n) {
        case 0:
          return RawReply::http(200, "<html>502 Bad Gateway</html>");
        case 1:
          return RawReply::http(
              500,
              R"({"kind":"Status","code":"500","reason":7,"details":{"retryAfterSeconds":"soon"}})",
              "Retry-After: 99999999999999999999\r\n");
        case 2:  // a list beyond max_list_bytes
          return RawReply::http(200, list("9", "") + std::string(100 * 1024, ' '));
        case 3: {
          RawReply r;
          r.writes = {"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{\"items\":["};
          r.end = RawReply::kReset;
          return r;
        }
        case 4:
          return RawReply::http(200, list("10", pod("p1", "10", "4294967303")));
        default:
          return RawReply::http(200, list("20", pod("p1", "20", "3") + "," + pod("p2", "20", "1")));
      }
    }
    switch (n) {  // watches
      case 0:
        return RawReply::stream(
            {R"({"type":5,"object":{}})"
             "\n",
             watch_line("ADDED", R"({"metadata":{"name":7,"namespace":["a"]}})"),
             watch_line("SURPRISE", "{}"), "not json at all\n",
             watch_line("MODIFIED", pod("p1", "11", "99999999999999999999"))},
            RawReply::kReset);
      case 1:
        // A wrong-typed ERROR: not a 410, so the reflector re-watches from its last RV.
        return RawReply::stream(
            {watch_line("ERROR", R"({"kind":"Status","code":"gone","reason":["x"]})")},
            RawReply::kHold);
      case 2:
        return RawReply::stream(
            {watch_line("ERROR", R"({"kind":"Status","code":410,"reason":"Expired"})")},
            RawReply::kHold);
      default:
        return RawReply::stream({huge_line, "\n", watch_line("ADDED", pod("p3", "21", "0"))},
                                RawReply::kHold);
    }
  };
  Fixture f(handler);
  std::uint32_t max_restarts_seen = 0;
  f.pods.set_listener([&](k8s::WatchType, const k8s::PodView*, const k8s::PodView* after) {
    if (after && !after->containers.empty())
      max_restarts_seen = std::max(max_restarts_seen, after->containers[0].restart_count);
  });
  REQUIRE(test::run_until(
      f.ioc, [&] { return f.pods.find("a", "p3") != nullptr || f.died; }, 20s));
  REQUIRE_FALSE(f.died);
  // Converged on the last list plus the last watch.
  CHECK(f.pods.size() == 3);
  CHECK(f.restarts("p1") == 3);
  CHECK(f.reflector->lists() == 2);
  // 4294967303 and a 20-digit restartCount saturated; nothing wrapped to 7.
  CHECK(max_restarts_seen == std::numeric_limits<std::uint32_t>::max());
  // The re-watch after the reset and after the wrong-typed ERROR resumed from the last RV.
  int resumed = 0;
  for (const auto& t : f.server->targets())
    resumed += t.find("resourceVersion=11") != std::string::npos;
  CHECK(resumed == 2);
  CHECK(f.peer(PeerFault::kMalformed) >= 3);  // garbage list, "not json", no type
  CHECK(f.peer(PeerFault::kOversized) == 2);  // the list body and the long line
  CHECK(f.peer(PeerFault::kTransport) == 2);  // the list reset and the watch reset
  CHECK(f.peer(PeerFault::kBadHeader) == 1);
  CHECK(f.peer(PeerFault::kWrongType) >= 2);  // the Status body, the SURPRISE type
  CHECK(f.peer(PeerFault::kStatus) == 2);     // the 500 and the ERROR event with no usable code
  // Made-up event types do not add series.
  for (auto& fam : f.registry.Collect()) {
    if (fam.name != "podmedic_watch_events_total") continue;
    for (auto& m : fam.metric)
      for (auto& l : m.label) CHECK(l.value != "SURPRISE");
  }
  f.server->stop();
}

TEST_CASE("a Retry-After beyond max_retry_after waits only that long") {
  // One 503 saying "come back in 2 minutes": the relist comes after max_retry_after (300 ms
  // here, 30 s by default), not after the hint; it used to wait up to 300 s while failures went
  // unseen.
  auto handler = [&](const std::string& target, std::size_t n) -> RawReply {
    if (target.find("watch=1") == std::string::npos) {
      if (n == 0)
        return RawReply::http(503,
                              R"({"kind":"Status","code":503,"details":{"retryAfterSeconds":120}})",
                              "Retry-After: 120\r\n");
      return RawReply::http(200, list("10", pod("p1", "10", "2")));
    }
    return RawReply::stream({}, RawReply::kHold);
  };
  Fixture f(handler, 300ms);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(test::run_until(
      f.ioc, [&] { return f.pods.find("a", "p1") != nullptr || f.died; }, 10s));
  REQUIRE_FALSE(f.died);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);  // the hint, up to the ceiling
  CHECK(f.reflector->lists() == 1);
  f.server->stop();
}

TEST_CASE("watch lines cut anywhere across reads, and many in one read, decode alike", "[split]") {
  // 40 events, then an unterminated oversized line, then one more event. The splitter decodes
  // lines inside one read in place and copies only a line that spans reads: cut the stream into
  // pieces of every size from 1 to 97 bytes (a line cut in 2, 3 or hundreds of pieces, a piece
  // holding several whole lines), then once more as a single write.
  std::string all;
  for (int i = 0; i < 40; ++i)
    all += watch_line("MODIFIED",
                      pod("p" + std::to_string(i), std::to_string(30 + i), std::to_string(i)));
  const std::string tail_line = watch_line("ADDED", pod("last", "99", "7"));
  int watches = 0;
  auto handler = [&](const std::string& target, std::size_t) -> RawReply {
    if (target.find("watch=1") == std::string::npos)
      return RawReply::http(200, list("20", pod("p0", "20", "100")));
    std::vector<std::string> writes;
    if (watches++ == 0) {
      std::size_t step = 1;
      for (std::size_t at = 0; at < all.size(); at += step, step = step % 97 + 1)
        writes.push_back(all.substr(at, step));
      writes.push_back(std::string(20 * 1024, 'x'));  // beyond max_line_bytes (16 KiB)
      writes.push_back(std::string(5 * 1024, 'y') + "\n");
      writes.push_back(tail_line);
      return RawReply::stream(std::move(writes), RawReply::kClose);
    }
    return RawReply::stream({all + tail_line}, RawReply::kHold);
  };
  Fixture f(handler);
  std::size_t applied = 0;
  f.pods.set_listener([&](k8s::WatchType, const k8s::PodView*, const k8s::PodView*) { ++applied; });
  // 1 listed + 41 watched, twice (the first watch ends, the second holds).
  REQUIRE(test::run_until(
      f.ioc, [&] { return applied >= 1 + 41 + 41 || f.died; }, 20s));
  REQUIRE_FALSE(f.died);
  CHECK(f.pods.size() == 41);
  for (int i = 0; i < 40; ++i) CHECK(f.restarts("p" + std::to_string(i)) == std::uint32_t(i));
  CHECK(f.restarts("last") == 7);
  CHECK(f.peer(PeerFault::kMalformed) == 0);  // no line was cut wrongly
  CHECK(f.peer(PeerFault::kOversized) == 1);  // the 25 KiB line, skipped to its newline
  f.server->stop();
}

TEST_CASE("an event that moves to another pod is re-filed, and per-pod eviction never throws") {
  Interner in;
  watcher::EventStore store(in, {2, 100});
  auto line = [](const std::string& type, const std::string& name, const std::string& pod,
                 const std::string& ts) {
    return R"({"type":")" + type + R"(","object":{"metadata":{"namespace":"a","name":")" + name +
           R"("},"involvedObject":{"kind":"Pod","name":")" + pod +
           R"("},"type":"Warning","reason":"BackOff","lastTimestamp":")" + ts + R"("}})";
  };
  auto apply = [&](const std::string& text) {
    test::Padded p(text);
    return store.apply_watch_line(p.view(), p.capacity());
  };
  REQUIRE(apply(line("ADDED", "e1", "p1", "2026-01-01T00:00:01Z")).ok());
  // The same Event now names p2: p1 must no longer list it.
  REQUIRE(apply(line("MODIFIED", "e1", "p2", "2026-01-01T00:00:02Z")).ok());
  CHECK(store.for_pod("a", "p1").empty());
  REQUIRE(store.for_pod("a", "p2").size() == 1);
  REQUIRE(apply(line("DELETED", "e1", "p2", "2026-01-01T00:00:02Z")).ok());
  CHECK(store.size() == 0);
  // Filling p1 past its bound evicts its oldest; with a stale key under p1 this used at().
  for (int i = 0; i < 4; ++i) {
    REQUIRE(apply(line("ADDED", "n" + std::to_string(i), "p1",
                       "2026-01-01T00:00:1" + std::to_string(i) + "Z"))
                .ok());
  }
  auto kept = store.for_pod("a", "p1");
  REQUIRE(kept.size() == 2);
  CHECK(kept[0]->name == "n3");
  CHECK(kept[1]->name == "n2");
  CHECK(store.size() == 2);
}
