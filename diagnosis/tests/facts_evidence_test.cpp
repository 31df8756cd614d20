// Facts beyond logs through the simulated API server: terminations and their messages, probe
// events, the node's memory state for OOMKilled (and why it is skipped with namespaced Roles),
// and what the latest rollout changed — all redacted.
#include <catch2/catch.hpp>

#include "diagnosis/evidence_source.h"
#include "tests/integration/harness.h"

using namespace podmedic;
using namespace podmedic::diagnosis;
using namespace podmedic::test;

namespace {

Evidence gather(Harness& h, const std::string& ns, const std::string& pod, FactSettings fs = {}) {
  rules::Detector det(h.interner, {});
  EvidenceSource source(*h.client, h.interner, det, LogBudget{}, {}, std::move(fs));
  std::optional<Result<Evidence>> got;
  net::co_spawn(h.ioc, source.pod(ns, pod, nullptr), [&](std::exception_ptr e, Result<Evidence> r) {
    if (e) std::rethrow_exception(e);
    got.emplace(std::move(r));
  });
  REQUIRE(run_until(h.ioc, [&] { return got.has_value(); }));
  REQUIRE(got->ok());
  return std::move(got->value());
}

sim::PodTemplate deployment_pod(const std::string& hash) {
  sim::PodTemplate t;
  t.ns = "payments";
  t.deployment = "api";
  t.rs_hash = hash;
  t.name = "api-" + hash + "-x2x9q";
  t.node = "worker-1";
  t.extra_env = 2;
  return t;
}

// A pod of `t` that ran 30 s and was OOM-killed (or crashed), with its termination message.
void crashed_pod(Harness& h, const sim::PodTemplate& t, int code, const std::string& reason,
                 const std::string& message) {
  h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
  h.crash(t.ns, t.name, code, reason);
  auto p = *h.server.store().get(sim::Res::kPods, t.ns, t.name);
  p["status"]["containerStatuses"][0]["lastState"]["terminated"]["message"] = message;
  h.server.store().upsert(sim::Res::kPods, p);
}

}  // namespace

TEST_CASE("facts: the last termination, its message (redacted) and a liveness probe's kill") {
  Harness h;
  auto t = deployment_pod("84b5f7c9d6");
  crashed_pod(h, t, 137, "Error", "shutting down: db password=Hunter2-secret rejected");
  auto pod = *h.server.store().get(sim::Res::kPods, t.ns, t.name);
  h.server.store().upsert(sim::Res::kEvents,
                          sim::make_pod_event(pod, "app", "Warning", "Unhealthy",
                                              "Liveness probe failed: HTTP probe failed with "
                                              "statuscode: 503",
                                              6, h.now));
  auto ev = gather(h, t.ns, t.name);
  const std::string text = ev.text();
  INFO(text);
  CHECK(text.find("== Facts ==") != std::string::npos);
  CHECK(text.find("container app last ended: Error, exit 137 (SIGKILL: out of memory or killed), "
                  "signal 9 (SIGKILL), after running 30 s") != std::string::npos);
  CHECK(text.find("container app termination message: shutting down") != std::string::npos);
  CHECK(text.find("Hunter2-secret") == std::string::npos);
  CHECK(text.find("container app: its liveness probe fails: the kubelet kills and restarts it "
                  "(killed by its liveness probe") != std::string::npos);
  // No rollout: nothing changed, and the evidence does not say it did.
  CHECK(ev.change.empty());
  CHECK(ev.changes.empty());
}

TEST_CASE("facts: OOMKilled on a node under MemoryPressure vs its own limit vs namespaced Roles") {
  Harness h;
  auto t = deployment_pod("84b5f7c9d6");
  crashed_pod(h, t, 137, "OOMKilled", "");
  h.server.store().upsert(sim::Res::kNodes, sim::make_node("worker-1", true, h.now - 50));
  h.server.store().upsert(
      sim::Res::kEvents,
      sim::make_node_event("worker-1", "Warning", "SystemOOM",
                           "System OOM encountered, victim process: java", h.now - 5));
  // Another node's event and an old one: not cited.
  h.server.store().upsert(
      sim::Res::kEvents,
      sim::make_node_event("worker-2", "Warning", "SystemOOM", "other node", h.now));
  h.server.store().upsert(
      sim::Res::kEvents,
      sim::make_node_event("worker-1", "Warning", "SystemOOM", "last week", h.now - 7 * 86400));
  {
    auto ev = gather(h, t.ns, t.name);
    const std::string text = ev.text();
    INFO(text);
    CHECK(text.find("container app: node worker-1 ran out of memory (MemoryPressure True since") !=
          std::string::npos);
    CHECK(text.find("SystemOOM (x1) at") != std::string::npos);
    CHECK(text.find("victim process: java") != std::string::npos);
    CHECK(text.find("other node") == std::string::npos);
    CHECK(text.find("last week") == std::string::npos);
    CHECK(text.find("limit 256Mi, request 256Mi") != std::string::npos);
  }
  {
    // The node is fine: the container hit its own limit.
    h.server.store().upsert(sim::Res::kNodes, sim::make_node("worker-1", false, h.now - 50));
    for (const auto& e : h.server.store().all(sim::Res::kEvents, "default"))
      h.server.store().remove(sim::Res::kEvents, "default", e->name);
    auto ev = gather(h, t.ns, t.name);
    const std::string text = ev.text();
    INFO(text);
    CHECK(text.find("container app: the container hit its own memory limit (limit 256Mi, request "
                    "256Mi); node worker-1 reported no memory pressure") != std::string::npos);
  }
  {
    FactSettings fs;
    fs.node_facts = false;
    fs.node_facts_off = "watch.namespaces is set";
    const auto gets = h.server.stats().gets;
    auto ev = gather(h, t.ns, t.name, fs);
    CHECK(ev.text().find("the node's state is unknown (node facts skipped: watch.namespaces is "
                         "set)") != std::string::npos);
    CHECK(h.server.stats().gets == gets + 1);  // the pod only, never the node
  }
  {
    // No RBAC for nodes (or no such node): said, not fatal.
    h.server.store().remove(sim::Res::kNodes, "", "worker-1");
    auto ev = gather(h, t.ns, t.name);
    CHECK(ev.text().find("node worker-1 unreadable: HTTP 404 NotFound") != std::string::npos);
  }
}

TEST_CASE("what changed: a rollout 91 s before the crash, redacted, first in the evidence") {
  Harness h;
  auto old_t = deployment_pod("84b5f7c9d6");
  old_t.image = "registry.example.com/payments/api:1.9.0";
  auto new_t = deployment_pod("5f6c7d8e9a");
  new_t.image = "registry.example.com/payments/api:1.9.1";
  new_t.env["DB_HOST"] = "postgres.payments:5432";
  new_t.args = {"--dsn=postgres://payments:Sup3rS3cret@db:5432/payments"};
  h.server.store().upsert(sim::Res::kReplicaSets,
                          sim::make_revision_replicaset(old_t, 1, 0, h.now - 86400));
  h.server.store().upsert(sim::Res::kReplicaSets,
                          sim::make_revision_replicaset(new_t, 2, 2, h.now - 90));
  crashed_pod(h, new_t, 2, "Error", "");
  FactSettings fs;
  auto ev = gather(h, new_t.ns, new_t.name, fs);
  const std::string text = ev.text();
  INFO(text);
  CHECK(text.find("== What changed ==\nstarted failing 1 min 31 s after the rollout to revision 2 "
                  "(api-5f6c7d8e9a, was revision 1): image "
                  "registry.example.com/payments/api:1.9.1 (was "
                  "registry.example.com/payments/api:1.9.0); args") == 0);
  CHECK(text.find("env DB_HOST added") != std::string::npos);
  CHECK(text.find("postgres.payments:5432") == std::string::npos);  // an env value: never
  CHECK(text.find("Sup3rS3cret") == std::string::npos);             // redacted
  REQUIRE(ev.changes.size() == 3);
  CHECK(ev.changes[0].field == "image");
  CHECK(ev.changes[0].container == "app");
  CHECK(ev.changes[0].from == "registry.example.com/payments/api:1.9.0");
  CHECK(ev.changes[0].to == "registry.example.com/payments/api:1.9.1");
  CHECK(ev.changes[1].field == "args");
  CHECK(ev.changes[1].from.empty());
  CHECK(ev.changes[1].to.str().find("Sup3rS3cret") == std::string::npos);
  CHECK(ev.changes[2].field == "env");
  CHECK(ev.changes[2].to == "DB_HOST");

  // A window shorter than the 91 s: no change is claimed.
  fs.change_window_seconds = 60;
  auto outside = gather(h, new_t.ns, new_t.name, fs);
  CHECK(outside.change.empty());
  CHECK(outside.changes.empty());
}

TEST_CASE("what changed: a StatefulSet's ControllerRevisions; a 403 is said, not fatal") {
  Harness h;
  sim::PodTemplate t;
  t.ns = "data";
  t.name = "db-0";
  t.controller_kind = "StatefulSet";
  t.controller = "db";
  t.image = "postgres:16.1";
  sim::PodTemplate t2 = t;
  t2.image = "postgres:16.2";
  t2.memory_limit = "128Mi";
  h.server.store().upsert(
      sim::Res::kControllerRevisions,
      sim::make_controller_revision(t, "StatefulSet", "db", "6d5c4b3a2", 1, h.now - 3600));
  h.server.store().upsert(
      sim::Res::kControllerRevisions,
      sim::make_controller_revision(t2, "StatefulSet", "db", "7e6d5c4b3", 2, h.now - 300));
  crashed_pod(h, t2, 137, "OOMKilled", "");
  auto ev = gather(h, "data", "db-0");
  INFO(ev.text());
  CHECK(ev.change.find("started failing 5 min 1 s after the rollout to revision 2 (db-7e6d5c4b3, "
                       "was revision 1): image postgres:16.2 (was postgres:16.1); resources "
                       "limits.memory 128Mi (was limits.memory 256Mi)") == 0);
  h.server.inject({"/apis/apps/v1/namespaces/data/controllerrevisions", sim::Fault::kList, 403, 1});
  auto denied = gather(h, "data", "db-0");
  CHECK(denied.change.find("(the workload's revisions are unavailable: HTTP 403") == 0);
  CHECK(denied.changes.empty());
  CHECK(denied.text().find("OOMKilled in container app") != std::string::npos);
}
