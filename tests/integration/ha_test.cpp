// Two replicas, one voice: two pipelines with ha.enabled against the simulated API server (which
// serves Leases and ConfigMaps with resourceVersion conflicts). The leader announces; the
// follower stays silent with warm caches; when the leader dies mid-storm, the follower takes the
// Lease within the lease duration, inherits the mirrored state, and announces only what the
// dead leader had not.
#include <catch2/catch.hpp>

#include <filesystem>

#include "app/pipeline.h"
#include "tests/fake_clock.h"
#include "tests/integration/harness.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::test;
namespace fs = std::filesystem;

namespace {
struct Recorder final : incidents::IncidentSink {
  std::vector<std::string> opened;  // fingerprints
  void on_incident_event(const incidents::IncidentEvent& e) override {
    if (e.type != incidents::EventType::kOpened && e.type != incidents::EventType::kDigest) return;
    for (const auto* i : e.incidents) opened.push_back(i->fingerprint);
  }
};

app::Config replica(const fs::path& dir, const std::string& identity) {
  app::Config c;
  c.cluster.name = "sim";
  c.state.dir = (dir / identity).string();
  c.server.listen = "127.0.0.1:0";
  c.watch.tuning = fast_options();
  c.diagnosis.enabled = false;
  c.diagnosis.wait_before_notify = std::chrono::milliseconds(0);
  c.ha.enabled = true;
  c.ha.lease_namespace = "podmedic";
  c.ha.identity = identity;
  c.ha.lease_duration = std::chrono::milliseconds(1500);
  c.ha.renew_deadline = std::chrono::milliseconds(1000);
  c.ha.retry_period = std::chrono::milliseconds(200);
  return c;
}

void add_deployment(Harness& h, const std::string& name) {
  sim::PodTemplate t;
  t.ns = "shop";
  t.deployment = name;
  t.name = name + "-7d9f8b6c5d-0";
  h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
}
}  // namespace

TEST_CASE("two replicas one voice: failover without duplicate or lost alerts") {
  // Removed last, after the pipelines and the writer (whose thread may still be writing there).
  test::ScratchDir scratch(fs::temp_directory_path() /
                           ("podmedic-ha-" + std::to_string(::getpid())));
  const auto& dir = scratch.path;
  Harness h;
  FakeClock clock;
  for (const char* d : {"cart", "api", "web", "search"}) add_deployment(h, d);
  GroupCommit writer;  // shared by both replicas' trackers, as one daemon's would be
  app::PipelineOptions opts;
  opts.tick = std::chrono::milliseconds(10);
  opts.writer = &writer;
  opts.stop_on_lost_leadership = false;
  k8s::ClusterConnection conn;
  REQUIRE(k8s::parse_server_url(h.server.url(), conn).ok());

  Recorder rec_a, rec_b;
  auto a =
      std::make_unique<app::Pipeline>(h.ioc, replica(dir, "replica-a"), conn, rec_a, clock, opts);
  REQUIRE(a->start().ok());
  REQUIRE(run_until(h.ioc, [&] { return a->leading() && a->synced(); }));
  app::Pipeline b(h.ioc, replica(dir, "replica-b"), conn, rec_b, clock, opts);
  REQUIRE(b.start().ok());
  REQUIRE(run_until(h.ioc, [&] { return b.synced(); }));

  // The storm begins: the leader alone speaks.
  h.crash("shop", "cart-7d9f8b6c5d-0", 137, "OOMKilled");
  h.crash("shop", "api-7d9f8b6c5d-0", 1, "Error");
  REQUIRE(run_until(h.ioc, [&] { return rec_a.opened.size() == 2; }));
  // The follower watches (warm cache) but says nothing, and stays a follower.
  REQUIRE(run_until(h.ioc, [&] { return b.pods().find("shop", "api-7d9f8b6c5d-0") != nullptr; }));
  CHECK(rec_b.opened.empty());
  CHECK_FALSE(b.leading());
  // The leader's state reaches the ConfigMap.
  REQUIRE(run_until(h.ioc, [&] {
    auto cm = h.server.store().get(sim::Res::kConfigMaps, "podmedic", "podmedic-state");
    return cm &&
           (*cm)["data"]["incidents.json"].get<std::string>().find("api") != std::string::npos;
  }));
  auto lease = h.server.store().get(sim::Res::kLeases, "podmedic", "podmedic");
  REQUIRE(lease);
  CHECK((*lease)["spec"]["holderIdentity"] == "replica-a");

  // The leader dies mid-storm (no goodbye: its Lease just stops being renewed).
  a.reset();
  auto died = std::chrono::steady_clock::now();
  h.crash("shop", "web-7d9f8b6c5d-0", 1, "Error");
  h.crash("shop", "cart-7d9f8b6c5d-0", 137, "OOMKilled");  // a known incident keeps crashing
  REQUIRE(run_until(
      h.ioc, [&] { return b.leading(); }, std::chrono::seconds(10)));
  auto failover = std::chrono::steady_clock::now() - died;
  CHECK(failover <
        std::chrono::milliseconds(1500 + 1000));  // within the lease duration (+ a retry)
  REQUIRE(run_until(h.ioc, [&] { return rec_b.opened.size() == 1; }));
  h.crash("shop", "search-7d9f8b6c5d-0", 1, "Error");
  REQUIRE(run_until(h.ioc, [&] { return rec_b.opened.size() == 2; }));
  // Exactly the alerts the dead leader had not sent; none repeated.
  CHECK(rec_b.opened ==
        std::vector<std::string>{"sim/shop/Deployment/web/app/CrashLoopBackOff",
                                 "sim/shop/Deployment/search/app/CrashLoopBackOff"});
  CHECK(b.tracker().open_count() == 4);
  lease = h.server.store().get(sim::Res::kLeases, "podmedic", "podmedic");
  CHECK((*lease)["spec"]["holderIdentity"] == "replica-b");
  CHECK((*lease)["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("the simulated API server enforces optimistic concurrency on Lease updates") {
  Harness h;
  k8s::KubeClient& c = *h.client;
  std::string lease =
      R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l"},"spec":{"holderIdentity":"x"}})";
  const std::string coll = "/apis/coordination.k8s.io/v1/namespaces/podmedic/leases";
  Result<k8s::HttpResponse> created = Error{""}, again = Error{""}, stale = Error{""},
                            fresh = Error{""};
  // Every awaitable is named before it is awaited (GCC 12 and temporaries in co_await).
  auto run = [&]() -> net::awaitable<void> {
    auto op1 = c.send("POST", coll, lease, 1 << 16, std::chrono::seconds(5));
    created = co_await std::move(op1);
    auto op2 = c.send("POST", coll, lease, 1 << 16, std::chrono::seconds(5));
    again = co_await std::move(op2);
    auto body = nlohmann::json::parse(created->body);
    body["spec"]["holderIdentity"] = "y";
    auto op3 = c.send("PUT", coll + "/l", body.dump(), 1 << 16, std::chrono::seconds(5));
    fresh = co_await std::move(op3);
    body["spec"]["holderIdentity"] = "z";  // still carries the old resourceVersion
    auto op4 = c.send("PUT", coll + "/l", body.dump(), 1 << 16, std::chrono::seconds(5));
    stale = co_await std::move(op4);
  };
  bool done = false;
  net::co_spawn(h.ioc, run(), [&](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
    done = true;
  });
  REQUIRE(run_until(h.ioc, [&] { return done; }));
  REQUIRE(created.ok());
  CHECK(created->status == 201);
  CHECK(again->status == 409);
  CHECK(again->body.find("AlreadyExists") != std::string::npos);
  CHECK(fresh->status == 200);
  CHECK(stale->status == 409);
  CHECK(stale->body.find("the object has been modified") != std::string::npos);
  CHECK((*h.server.store().get(sim::Res::kLeases, "podmedic", "l"))["spec"]["holderIdentity"] ==
        "y");
}
