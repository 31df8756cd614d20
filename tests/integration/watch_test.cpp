// The client and watch engine against the simulated API server, one fault at a time. Every test
// asserts that the client's store converges to the server's truth: no lost, no phantom pods.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "watcher/watcher.h"

using namespace podmedic;
using namespace podmedic::test;

TEST_CASE("initial sync pages through the list and reports synced") {
  Harness h;
  for (int i = 0; i < 10; ++i) h.add_pod(i % 2 ? "shop" : "pay", "pod-" + std::to_string(i));
  h.start();
  REQUIRE(h.run_until_converged());
  CHECK(h.pods.size() == 10);
  CHECK(h.pod_reflector->lists() == 1);
  CHECK(h.server.stats().lists >= 3 + 1);  // 10 pods at 4 per page: 3 pages, plus the events list
}

TEST_CASE("watch applies ADDED MODIFIED and DELETED including graceful deletes") {
  Harness h;
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  std::vector<std::string> seen;
  h.pods.set_listener([&](k8s::WatchType t, const k8s::PodView*, const k8s::PodView*) {
    seen.push_back(k8s::to_string(t));
  });
  h.add_pod("shop", "b");
  h.crash("shop", "a");
  auto p = *h.server.store().get(sim::Res::kPods, "shop", "a");
  sim::set_deleting(p, h.now);
  h.server.store().upsert(sim::Res::kPods, p);
  h.server.store().remove(sim::Res::kPods, "shop", "a");
  REQUIRE(h.run_until_converged());
  CHECK(seen == std::vector<std::string>{"ADDED", "MODIFIED", "MODIFIED", "DELETED"});
  CHECK(h.pods.find("shop", "a") == nullptr);
  REQUIRE(h.pods.find("shop", "b") != nullptr);
  CHECK(h.pod_reflector->lists() == 1);
}

TEST_CASE("a burst of events in one flush is split across chunks and reassembled") {
  Harness h;
  h.start();
  REQUIRE(h.run_until_converged());
  for (int i = 0; i < 60; ++i)
    h.add_pod("burst", "p" + std::to_string(i));  // one flush, split in two chunks
  REQUIRE(h.run_until_converged());
  CHECK(h.pods.size() == 60);
  CHECK(h.counter("podmedic_watch_decode_errors_total", {}) == 0);
}

TEST_CASE("a clean end of the watch re-watches from the last RV without relisting") {
  Harness h;
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  auto watches = h.pod_reflector->watches();
  h.crash("shop", "a");
  REQUIRE(h.run_until_converged());
  h.server.end_watches();
  h.add_pod("shop", "b");  // made after the end: must arrive through the next watch
  REQUIRE(run_until(h.ioc, [&] { return h.pod_reflector->watches() > watches && h.converged(); }));
  CHECK(h.pod_reflector->lists() == 1);
}

TEST_CASE("timeoutSeconds ends the stream cleanly and the client carries on") {
  Harness h;
  auto o = fast_options();
  o.min_watch_timeout = 1s;
  o.max_watch_timeout = 2s;
  h.add_pod("shop", "a");
  h.start(o, false);
  REQUIRE(h.run_until_converged());
  h.crash("shop", "a");
  REQUIRE(run_until(
      h.ioc, [&] { return h.pod_reflector->watches() >= 2; }, 5s));
  h.add_pod("shop", "b");
  REQUIRE(h.run_until_converged());
  CHECK(h.pod_reflector->lists() == 1);
  CHECK(h.counter("podmedic_watch_restarts_total", {{"resource", "pods"}, {"reason", "timeout"}}) >=
        1);
}

TEST_CASE("bookmarks advance the resourceVersion without touching the store") {
  sim::ServerOptions so;
  so.bookmark_interval = 50ms;
  Harness h(so);
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  // Changes to other resources move the global RV; only a bookmark can tell the pod watch.
  auto pod = *h.server.store().get(sim::Res::kPods, "shop", "a");
  for (int i = 0; i < 3; ++i) {
    h.server.store().upsert(sim::Res::kNamespaces,
                            sim::make_namespace("ns" + std::to_string(i), h.now));
  }
  auto want = std::to_string(h.server.store().current_rv());
  REQUIRE(run_until(h.ioc, [&] { return h.pod_reflector->resource_version() == want; }));
  CHECK(h.pods.size() == 1);
  CHECK(h.counter("podmedic_watch_events_total", {{"resource", "pods"}, {"type", "BOOKMARK"}}) >=
        1);
}

TEST_CASE("ERROR 410 on the watch relists and synthesizes DELETED for vanished pods") {
  Harness h;
  h.add_pod("shop", "stays");
  h.add_pod("shop", "vanishes");
  h.start();
  REQUIRE(h.run_until_converged());
  std::vector<std::string> deleted;
  h.pods.set_listener([&](k8s::WatchType t, const k8s::PodView* before, const k8s::PodView*) {
    if (t == k8s::WatchType::kDeleted) deleted.push_back(before->name);
  });
  // Disconnect, change things unseen, and compact the history: the re-watch gets ERROR 410.
  h.server.drop_connections();
  h.server.store().remove(sim::Res::kPods, "shop", "vanishes");
  h.add_pod("shop", "new");
  h.server.store().compact();
  REQUIRE(h.run_until_converged());
  CHECK(deleted == std::vector<std::string>{"vanishes"});
  CHECK(h.pod_reflector->lists() == 2);
  CHECK(h.counter("podmedic_watch_restarts_total", {{"resource", "pods"}, {"reason", "expired"}}) >=
        1);
}

TEST_CASE("an expiring watch cache sends ERROR 410 to open watches and the client relists") {
  Harness h;
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  h.server.expire_watches();
  h.add_pod("shop", "b");
  REQUIRE(run_until(h.ioc, [&] { return h.pod_reflector->lists() == 2 && h.converged(); }));
}

TEST_CASE("an expired continue token during paging restarts the list") {
  Harness h;
  for (int i = 0; i < 10; ++i) h.add_pod("shop", "p" + std::to_string(i));
  bool compacted = false;
  h.pods.set_listener([&](k8s::WatchType, const k8s::PodView*, const k8s::PodView*) {
    if (!compacted) {
      compacted = true;
      h.server.store().compact();  // the first page's continue token is now too old: HTTP 410
    }
  });
  h.start();
  REQUIRE(h.run_until_converged());
  CHECK(compacted);
  CHECK(h.pods.size() == 10);
}

TEST_CASE(
    "429 with a plain-text body and Retry-After backs off then re-watches without relisting") {
  Harness h;
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  h.add_pod("shop", "b");  // the current watch delivers an event, so its end is a normal one
  REQUIRE(h.run_until_converged());
  h.server.inject(sim::Fault{"/api/v1/pods", sim::Fault::kWatch, 429, 1, 1, true});
  h.server.end_watches();
  REQUIRE(run_until(h.ioc, [&] { return h.server.stats().faults == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  h.add_pod("shop", "c");
  REQUIRE(h.run_until_converged(5s));
  CHECK(std::chrono::steady_clock::now() - t0 >= 900ms);  // Retry-After: 1 was honoured
  CHECK(h.pod_reflector->lists() == 1);
  CHECK(h.counter("podmedic_watch_restarts_total", {{"reason", "throttled"}}) == 1);
}

TEST_CASE("500 and 503 Status responses on the list are retried with backoff") {
  Harness h;
  h.add_pod("shop", "a");
  h.server.inject(sim::Fault{"/api/v1/pods", sim::Fault::kList, 500, 2});
  h.server.inject(sim::Fault{"/api/v1/pods", sim::Fault::kList, 503, 1, 0});
  h.start();
  REQUIRE(h.run_until_converged());
  CHECK(h.server.stats().faults == 3);
  CHECK(h.counter("podmedic_watch_restarts_total", {{"reason", "server_error"}}) == 3);
}

TEST_CASE("a rotated token is re-read after a 401 and the watch resumes") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("podmedic-token-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto token_file = (dir / "token").string();
  std::ofstream(token_file) << "first";
  sim::ServerOptions so;
  so.token = "first";
  Harness h(so, std::make_shared<k8s::FileTokenSource>(token_file, std::chrono::hours(1)));
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  std::ofstream(token_file) << "second";
  h.server.set_token("second");
  h.server.drop_connections();
  h.add_pod("shop", "b");
  REQUIRE(h.run_until_converged());
  CHECK(h.server.stats().unauthorized >= 1);
  fs::remove_all(dir);
}

TEST_CASE("a wrong token is an error the client reports and retries") {
  sim::ServerOptions so;
  so.token = "right";
  Harness h(so, std::make_shared<k8s::StaticTokenSource>("wrong"));
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(run_until(h.ioc, [&] {
    return h.counter("podmedic_watch_restarts_total", {{"reason", "unauthorized"}}) >= 2;
  }));
  CHECK_FALSE(h.pod_reflector->synced());
  CHECK(h.pods.size() == 0);
}

TEST_CASE("malformed and unknown watch lines are counted and skipped") {
  Harness h;
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  h.server.inject_malformed_line();
  h.server.inject_raw_line(
      R"({"type":"FUTURE","object":{"kind":"Pod","metadata":{"resourceVersion":"1"}}})");
  h.add_pod("shop", "b");
  REQUIRE(h.run_until_converged());
  CHECK(h.counter("podmedic_watch_decode_errors_total", {{"kind", "malformed"}}) >= 1);
  CHECK(h.counter("podmedic_watch_decode_errors_total", {{"kind", "unknown_type"}}) >= 1);
  CHECK(h.pod_reflector->lists() == 1);
}

TEST_CASE("an oversized watch line is skipped without losing the stream") {
  Harness h;
  auto o = fast_options();
  o.max_line_bytes = 16 * 1024;
  h.start(o, false);
  REQUIRE(h.run_until_converged());
  h.server.inject_raw_line(R"({"type":"MODIFIED","object":{"metadata":{"name":")" +
                           std::string(40000, 'x') + "\"}}}");
  h.add_pod("shop", "after");
  REQUIRE(h.run_until_converged());
  CHECK(h.counter("podmedic_watch_decode_errors_total", {{"kind", "oversized"}}) == 1);
  CHECK(h.pods.find("shop", "after") != nullptr);
}

TEST_CASE("dropped connections resume from the last RV and replay what was missed") {
  Harness h;
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  h.server.drop_connections();
  h.crash("shop", "a");
  h.add_pod("shop", "b");
  REQUIRE(h.run_until_converged());
  CHECK(h.pod_reflector->lists() == 1);
  CHECK(h.counter("podmedic_watch_restarts_total",
                  {{"resource", "pods"}, {"reason", "connection"}}) >= 1);
}

TEST_CASE("an API server restart with changes during the outage converges") {
  Harness h;
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  h.server.restart(150ms);
  h.crash("shop", "a");
  h.server.store().remove(sim::Res::kPods, "shop", "a");
  h.add_pod("shop", "c");
  REQUIRE(h.run_until_converged());
  CHECK(h.pods.find("shop", "a") == nullptr);
}

TEST_CASE("TLS with the cluster CA works and a wrong CA is refused") {
  sim::ServerOptions so;
  so.tls = true;
  Harness h(so);
  h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());

  sim::ServerOptions other;
  other.tls = true;
  net::io_context ioc2;
  sim::ApiServer impostor(h.ioc, other);
  impostor.listen();
  k8s::ClusterConnection c;
  REQUIRE(k8s::parse_server_url(impostor.url(), c).ok());
  c.ca_pem = h.server.ca_pem();  // trusts the real server's CA, not the impostor's
  k8s::KubeClient client(h.ioc.get_executor(), c);
  std::optional<Result<k8s::HttpResponse>> got;
  net::co_spawn(
      h.ioc, client.get("/api/v1/pods", 1 << 20, 5s),
      [&](std::exception_ptr, Result<k8s::HttpResponse> r) { got.emplace(std::move(r)); });
  REQUIRE(run_until(h.ioc, [&] { return got.has_value(); }));
  REQUIRE_FALSE(got->ok());
  CHECK(got->error().message.find("TLS handshake") == 0);
}

TEST_CASE("a label selector delivers DELETED when a pod stops matching") {
  Harness h;
  h.add_pod("shop", "web", {{"tier", "front"}});
  h.add_pod("shop", "db", {{"tier", "back"}});
  auto o = fast_options();
  o.label_selector = "tier=front";
  h.start(o, false);
  REQUIRE(run_until(h.ioc, [&] { return h.synced() && h.converged("tier=front"); }));
  CHECK(h.pods.size() == 1);
  auto p = *h.server.store().get(sim::Res::kPods, "shop", "web");
  p["metadata"]["labels"]["tier"] = "back";
  h.server.store().upsert(sim::Res::kPods, p);
  REQUIRE(run_until(h.ioc, [&] { return h.pods.size() == 0; }));
  CHECK(h.converged("tier=front"));
}

TEST_CASE("warning events are kept per pod and normal ones are not") {
  Harness h;
  auto pod = h.add_pod("shop", "a");
  h.start();
  REQUIRE(h.run_until_converged());
  h.server.store().upsert(
      sim::Res::kEvents, sim::make_pod_event(pod, "app", "Warning", "BackOff",
                                             "Back-off restarting failed container app", 3, h.now));
  h.server.store().upsert(sim::Res::kEvents,
                          sim::make_pod_event(pod, "app", "Normal", "Pulled", "pulled", 1, h.now));
  h.server.store().upsert(sim::Res::kEvents,
                          sim::make_scheduler_event(pod, "Warning", "FailedScheduling",
                                                    "0/3 nodes are available", h.now + 5));
  REQUIRE(run_until(h.ioc, [&] { return h.events.for_pod("shop", "a").size() == 2; }));
  auto evs = h.events.for_pod("shop", "a");
  CHECK(h.interner.view(evs[0]->reason) == "FailedScheduling");  // newest first
  CHECK(h.interner.view(evs[1]->reason) == "BackOff");
  CHECK(evs[1]->count == 3);
}

TEST_CASE("the watcher scopes to listed namespaces and excludes others on the server") {
  Harness h;
  h.add_pod("shop", "a");
  h.add_pod("pay", "b");
  h.add_pod("kube-system", "dns");
  h.add_pod("other", "c");
  SECTION("listed namespaces") {
    watcher::WatchSettings s;
    s.namespaces = {"shop", "pay"};
    s.tuning = fast_options();
    watcher::Watcher w(*h.client, s, h.pods, h.events, h.metrics);
    TaskGroup tasks(h.ioc);  // after w: stopped (and drained) before w goes away
    w.start(tasks);
    REQUIRE(run_until(h.ioc, [&] { return w.synced() && h.pods.size() == 2; }));
    CHECK(w.reflectors().size() == 4);  // pods + events per namespace
    h.add_pod("other", "d");
    h.add_pod("shop", "e");
    REQUIRE(run_until(h.ioc, [&] { return h.pods.find("shop", "e") != nullptr; }));
    CHECK(h.pods.find("other", "d") == nullptr);
  }
  SECTION("all namespaces minus excluded ones") {
    watcher::WatchSettings s;
    s.exclude_namespaces = {"kube-system"};
    s.tuning = fast_options();
    watcher::Watcher w(*h.client, s, h.pods, h.events, h.metrics);
    TaskGroup tasks(h.ioc);  // after w: stopped (and drained) before w goes away
    w.start(tasks);
    REQUIRE(run_until(h.ioc, [&] { return w.synced() && h.pods.size() == 3; }));
    CHECK(h.pods.find("kube-system", "dns") == nullptr);
  }
}
