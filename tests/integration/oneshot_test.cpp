// One-shot calls against the simulated API server: logs (previous, tail, limit, the kubelet's
// 400s) and a pod's own events by field selector; plus the streaming-list protocol of the sim.
#include <catch2/catch.hpp>

#include "k8s/api.h"
#include "tests/integration/harness.h"

using namespace podmedic;
using namespace podmedic::test;

namespace {
template <class T>
T await(Harness& h, net::awaitable<T> op) {
  std::optional<T> out;
  net::co_spawn(h.ioc, std::move(op), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(v));
  });
  REQUIRE(run_until(h.ioc, [&] { return out.has_value(); }));
  return std::move(*out);
}
}  // namespace

TEST_CASE("previous logs tailLines and limitBytes") {
  Harness h;
  h.add_pod("shop", "web-1");
  h.crash("shop", "web-1", 137, "OOMKilled");
  h.server.set_logs("shop", "web-1", "app", "booting\nready\n",
                    "start\nloading cache\njava.lang.OutOfMemoryError: Java heap space\n");
  k8s::LogOptions o;
  o.container = "app";
  o.previous = true;
  auto prev = await(h, k8s::fetch_logs(*h.client, "shop", "web-1", o));
  REQUIRE(prev.ok());
  CHECK(prev->available);
  CHECK(prev->text.find("OutOfMemoryError") != std::string::npos);
  o.tail_lines = 1;
  auto tail = await(h, k8s::fetch_logs(*h.client, "shop", "web-1", o));
  CHECK(tail->text == "java.lang.OutOfMemoryError: Java heap space\n");
  o.tail_lines = -1;
  o.limit_bytes = 5;
  auto cut = await(h, k8s::fetch_logs(*h.client, "shop", "web-1", o));
  CHECK(cut->text == "start");
}

TEST_CASE("log errors: no previous instance and waiting to start are not failures") {
  Harness h;
  h.add_pod("shop", "fresh");
  k8s::LogOptions o;
  o.container = "app";
  o.previous = true;
  auto none = await(h, k8s::fetch_logs(*h.client, "shop", "fresh", o));
  REQUIRE(none.ok());
  CHECK_FALSE(none->available);
  CHECK(none->unavailable_reason ==
        "previous terminated container \"app\" in pod \"fresh\" not found");

  auto p = *h.server.store().get(sim::Res::kPods, "shop", "fresh");
  sim::set_waiting(p, "app", "ImagePullBackOff", "Back-off pulling image \"x\"");
  h.server.store().upsert(sim::Res::kPods, p);
  o.previous = false;
  auto waiting = await(h, k8s::fetch_logs(*h.client, "shop", "fresh", o));
  REQUIRE(waiting.ok());
  CHECK_FALSE(waiting->available);
  CHECK(waiting->unavailable_reason.find("is waiting to start: image can't be pulled") !=
        std::string::npos);

  o.container = "nope";
  auto bad = await(h, k8s::fetch_logs(*h.client, "shop", "fresh", o));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("container nope is not valid for pod fresh") != std::string::npos);
  auto gone = await(h, k8s::fetch_logs(*h.client, "shop", "missing", o));
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().message.find("HTTP 404 NotFound: pods \"missing\" not found") !=
        std::string::npos);
}

TEST_CASE("a pod's own events by field selector newest first") {
  Harness h;
  auto a = h.add_pod("shop", "a");
  auto b = h.add_pod("shop", "b");
  h.server.store().upsert(sim::Res::kEvents, sim::make_pod_event(a, "app", "Warning", "BackOff",
                                                                 "a backoff", 4, h.now));
  h.server.store().upsert(sim::Res::kEvents, sim::make_pod_event(a, "app", "Normal", "Pulled",
                                                                 "a pulled", 1, h.now + 10));
  h.server.store().upsert(sim::Res::kEvents, sim::make_pod_event(b, "app", "Warning", "BackOff",
                                                                 "b backoff", 1, h.now));
  k8s::Decoder d(h.interner);
  auto evs = await(h, k8s::fetch_pod_events(*h.client, d, "shop", "a", a["metadata"]["uid"], 10));
  REQUIRE(evs.ok());
  REQUIRE(evs->size() == 2);
  CHECK((*evs)[0].message == "a pulled");
  CHECK((*evs)[1].message == "a backoff");
}

TEST_CASE("sim streaming lists: sendInitialEvents ends with the annotated bookmark") {
  Harness h;
  h.add_pod("shop", "a");
  h.add_pod("shop", "b");
  std::string body;
  auto sink = [&](std::string_view data) {
    body.append(data);
    return body.find("initial-events-end") == std::string::npos;
  };
  auto r = await(h, h.client->stream("/api/v1/"
                                     "pods?watch=1&sendInitialEvents=true&resourceVersionMatch="
                                     "NotOlderThan&allowWatchBookmarks=true",
                                     sink, 5s));
  REQUIRE(r.ok());
  CHECK(r->stopped);
  CHECK(std::count(body.begin(), body.end(), '\n') == 3);
  CHECK(body.find("\"type\":\"BOOKMARK\"") != std::string::npos);
  auto bad = await(h, h.client->get("/api/v1/pods?watch=1&sendInitialEvents=true", 1 << 20, 5s));
  REQUIRE(bad.ok());
  CHECK(bad->status == 422);
  auto sel = await(h, h.client->get("/api/v1/pods?fieldSelector=spec.bogus%3Dx", 1 << 20, 5s));
  CHECK(sel->status == 400);
  CHECK(sel->body.find("field label not supported: spec.bogus") != std::string::npos);
}
