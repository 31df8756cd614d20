// Recovery after 410: the reflector relists at once on 410 Expired whatever delay earlier failures
// built up; backoff applies to failures only and starts over after a watch that delivered objects;
// a server answering every watch with 410 is still backed off. Real sim server, real time, deadline
// polls; the backoff is scaled so that the old behaviour (waiting the grown backoff) takes longer
// than every bound asserted here.
#include <catch2/catch.hpp>

#include "tests/integration/harness.h"

using namespace podmedic;
using namespace podmedic::test;

namespace {

// 300 ms → 600 ms → 1.2 s → 2.4 s ... (each drawn from [d, 2d)).
watcher::ReflectorOptions scaled_options() {
  auto o = fast_options();
  o.backoff.initial = 300ms;
  o.backoff.cap = 30s;
  o.backoff.reset_after = std::chrono::minutes(10);
  return o;
}

// Drops the open watch `n` times, each time waiting for the reflector to come back: dropped
// watches that delivered nothing, so the backoff grows (300 ms, 600 ms, 1.2 s).
void drop_watches(Harness& h, int n) {
  for (int i = 0; i < n; ++i) {
    const auto watches = h.server.stats().watches;
    h.server.drop_connections();
    REQUIRE(run_until(
        h.ioc, [&] { return h.server.stats().watches > watches && h.server.open_watches() >= 1; },
        10s));
  }
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0);
}

}  // namespace

TEST_CASE("a failure right after a forced 410, following dropped watches, is seen within 2 s") {
  Harness h;
  h.add_pod("shop", "a");
  h.start(scaled_options(), false);
  REQUIRE(h.run_until_converged());
  drop_watches(h, 3);  // the next failure would wait 2.4–4.8 s
  const auto lists = h.pod_reflector->lists();

  const auto t0 = std::chrono::steady_clock::now();
  h.server.expire_watches();  // ERROR 410 on the open watch, history compacted
  h.crash("shop", "a");
  REQUIRE(run_until(
      h.ioc,
      [&] {
        const auto* p = h.pods.find("shop", "a");
        return p && !p->containers.empty() && p->containers[0].restart_count == 1;
      },
      10s));
  const auto took = since(t0);
  INFO("410 → crash seen in " << took.count() << " ms");
  CHECK(took < 2s);
  CHECK(h.pod_reflector->lists() == lists + 1);
  CHECK(h.counter("podmedic_watch_restarts_total", {{"resource", "pods"}, {"reason", "expired"}}) ==
        1);
}

TEST_CASE("the backoff starts over after a watch that delivered objects") {
  Harness h;
  h.add_pod("shop", "a");
  h.start(scaled_options(), false);
  REQUIRE(h.run_until_converged());
  drop_watches(h, 3);
  h.add_pod("shop", "b");  // the re-established watch delivers it
  REQUIRE(h.run_until_converged());

  const auto t0 = std::chrono::steady_clock::now();
  h.server.drop_connections();
  h.add_pod("shop", "c");
  REQUIRE(h.run_until_converged(10s));
  const auto took = since(t0);
  INFO("reconnected and caught up in " << took.count() << " ms");
  CHECK(took < 1500ms);  // the first delay again (300–600 ms), not the grown one (2.4–4.8 s)
  CHECK(h.pod_reflector->lists() == 1);
}

TEST_CASE("a server that answers every watch with 410 is relisted with backoff, not in a loop") {
  Harness h;
  h.add_pod("shop", "a");
  h.start(scaled_options(), false);
  REQUIRE(h.run_until_converged());
  h.add_pod("shop", "b");  // the first watch delivers something, so ending it is a normal end
  REQUIRE(h.run_until_converged());
  h.server.inject(sim::Fault{"/api/v1/pods", sim::Fault::kWatch, 410, 3});
  const auto t0 = std::chrono::steady_clock::now();
  h.server.end_watches();
  // Re-watch: 410 → relist at once → 410 on the first watch after it → 300–600 ms → relist →
  // 410 → 600–1200 ms → relist → the watch holds.
  REQUIRE(run_until(
      h.ioc, [&] { return h.server.stats().faults == 3; }, 10s));
  h.add_pod("shop", "c");
  REQUIRE(h.run_until_converged(10s));
  CHECK(h.pod_reflector->lists() == 4);
  CHECK(since(t0) >= 900ms);
  CHECK(h.counter("podmedic_watch_restarts_total", {{"resource", "pods"}, {"reason", "expired"}}) ==
        3);
}
