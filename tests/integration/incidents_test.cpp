// Incidents end to end through the simulated API server: the real pipeline (client, watcher,
// detector, tracker with a state dir) against a cluster whose replicas crash; then podmedic
// "restarts" (a new pipeline on the same state dir) and must not announce again.
#include <catch2/catch.hpp>

#include <filesystem>

#include "app/pipeline.h"
#include "tests/fake_clock.h"
#include "tests/integration/harness.h"

using namespace podmedic;
using namespace podmedic::test;
namespace fs = std::filesystem;

namespace {
struct Recorder final : incidents::IncidentSink {
  std::vector<std::string> lines;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    for (const auto* i : e.incidents)
      lines.push_back(std::string(incidents::to_string(e.type)) + " " + i->fingerprint);
  }
};

app::Config config_for(const std::string& state_dir) {
  app::Config c;
  c.cluster.name = "sim";
  c.state.dir = state_dir;
  c.server.listen = "127.0.0.1:0";
  c.watch.tuning = fast_options();
  return c;
}

k8s::ClusterConnection connect(sim::ApiServer& server) {
  k8s::ClusterConnection c;
  REQUIRE(k8s::parse_server_url(server.url(), c).ok());
  return c;
}
}  // namespace

TEST_CASE("replicas crashing through the sim open one incident and a restart does not repeat it") {
  auto dir = fs::temp_directory_path() / ("podmedic-incidents-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Harness h;
  test::FakeClock clock;
  for (int i = 0; i < 3; ++i) {
    sim::PodTemplate t;
    t.ns = "shop";
    t.deployment = "cart";
    t.name = "cart-7d9f8b6c5d-" + std::to_string(i);
    h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
  }
  app::PipelineOptions fast;
  fast.tick = std::chrono::milliseconds(10);
  {
    Recorder rec;
    app::Pipeline p(h.ioc, config_for(dir.string()), connect(h.server), rec, clock, fast);
    REQUIRE(p.start().ok());
    REQUIRE(run_until(h.ioc, [&] { return p.synced(); }));
    for (int i = 0; i < 3; ++i)
      h.crash("shop", "cart-7d9f8b6c5d-" + std::to_string(i), 137, "OOMKilled");
    REQUIRE(run_until(h.ioc, [&] {
      return p.tracker().incidents().size() == 1 && p.tracker().incidents()[0]->pods.size() == 3;
    }));
    for (int i = 0; i < 3; ++i)
      h.crash("shop", "cart-7d9f8b6c5d-" + std::to_string(i), 137, "OOMKilled");
    REQUIRE(run_until(h.ioc, [&] { return p.tracker().incidents()[0]->restarts == 2; }));
    REQUIRE(run_until(h.ioc, [&] { return !rec.lines.empty(); }));  // after evidence gathering
    CHECK(rec.lines ==
          std::vector<std::string>{"incident.opened sim/shop/Deployment/cart/app/OOMKilled"});
    double total = 0;
    for (auto& f : p.registry().Collect()) {
      if (f.name == "podmedic_incidents_total") total = f.metric[0].counter.value;
    }
    CHECK(total == 1);
  }
  // podmedic restarts: a new pipeline, the same state dir, the same still-broken cluster.
  Recorder rec;
  app::Pipeline p(h.ioc, config_for(dir.string()), connect(h.server), rec, clock, fast);
  REQUIRE(p.start().ok());
  REQUIRE(run_until(h.ioc, [&] { return p.synced() && p.tracker().open_count() == 1; }));
  h.crash("shop", "cart-7d9f8b6c5d-0", 137, "OOMKilled");
  REQUIRE(run_until(h.ioc, [&] { return p.tracker().incidents()[0]->restarts == 3; }));
  CHECK(rec.lines.empty());
  // The pods are replaced by healthy ones: every pod of the incident is gone → resolved, once.
  for (int i = 0; i < 3; ++i)
    h.server.store().remove(sim::Res::kPods, "shop", "cart-7d9f8b6c5d-" + std::to_string(i));
  REQUIRE(run_until(h.ioc, [&] { return p.tracker().open_count() == 0; }));
  CHECK(rec.lines ==
        std::vector<std::string>{"incident.resolved sim/shop/Deployment/cart/app/OOMKilled"});
  fs::remove_all(dir);
}

TEST_CASE("when evidence is not ready in time the alert goes out without it") {
  auto dir = fs::temp_directory_path() / ("podmedic-hold-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Harness h;
  test::FakeClock clock;
  sim::PodTemplate t;
  t.ns = "shop";
  t.deployment = "cart";
  t.name = "cart-7d9f8b6c5d-0";
  h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
  auto config = config_for(dir.string());
  config.diagnosis.wait_before_notify = std::chrono::milliseconds(1);
  // The API server answers log requests slowly: 429 with Retry-After 1 s, twice.
  h.server.inject(sim::Fault{"/api/v1/namespaces/shop/pods/cart-7d9f8b6c5d-0", sim::Fault::kAny,
                             429, 2, 1, true});
  app::PipelineOptions fast;
  fast.tick = std::chrono::milliseconds(10);
  Recorder rec;
  app::Pipeline p(h.ioc, config, connect(h.server), rec, clock, fast);
  REQUIRE(p.start().ok());
  REQUIRE(run_until(h.ioc, [&] { return p.synced(); }));
  h.crash("shop", "cart-7d9f8b6c5d-0", 137, "OOMKilled");
  REQUIRE(run_until(h.ioc, [&] { return !rec.lines.empty(); }));
  CHECK(rec.lines ==
        std::vector<std::string>{"incident.opened sim/shop/Deployment/cart/app/OOMKilled"});
  CHECK(p.tracker().incidents()[0]->evidence.empty());
  fs::remove_all(dir);
}
