// Facts beyond logs end to end through the podmedic binary and the simulated cluster: a rollout
// to a bad image (a new ReplicaSet revision) crashes, and the webhook body carries what changed
// (image, env name — never its value), the facts line says it first; an OOMKilled pod on a node
// under MemoryPressure with a SystemOOM event: the evidence (the LLM prompt and /diagnose) says
// the node ran out of memory, not the container's own limit.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/http.h"
#include "sim/objects.h"
#include "tests/e2e_support.h"
#include "tests/http_mock.h"
#include "tests/process.h"
#include "tests/support.h"

using namespace podmedic;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;

TEST_CASE(
    "e2e: a bad rollout's changes reach the webhook; an OOM on a pressured node is told apart") {
  test::E2eCluster env("facts");
  auto& sim = env.sim;
  test::HttpMock webhook([](const test::MockRequest&) { return test::MockResponse{}; });
  test::HttpMock ollama([&](const test::MockRequest& r) -> test::MockResponse {
    if (r.target == "/api/tags") return {200, R"({"models":[{"name":"mistral:latest"}]})", {}};
    json answer = {{"model", "mistral"},
                   {"message", {{"role", "assistant"}, {"content", "See the facts."}}},
                   {"done", true}};
    return {200, answer.dump(), {}};
  });
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  name: facts\n  kubeconfig: " << (env.dir / "kubeconfig").string() << "\n"
      << "diagnosis:\n  waitBeforeNotify: 5s\n  changeWindow: 10m\n"
      << "ollama:\n  url: " << ollama.url("") << "\n"
      << "notifiers:\n  webhooks:\n    - name: hook\n      url: " << webhook.url() << "\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"
      << "log:\n  format: json\n";
  test::Child podmedic({PODMEDIC_BINARY, "run", "--config", (env.dir / "podmedic.yaml").string()},
                       env.dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));
  unsigned port = 0;
  REQUIRE(eventually([&] { return (port = test::http_port_of(podmedic)) != 0; }));

  // Deployment orders: revision 1 (a day old), revision 2 rolled out 90 s before its pods crash.
  sim.call([&] {
    sim::PodTemplate old_t;
    old_t.ns = "shop";
    old_t.deployment = "orders";
    old_t.rs_hash = "6b7c8d9e0f";
    old_t.image = "registry.example.com/shop/orders:1.9.0";
    sim::PodTemplate new_t = old_t;
    new_t.rs_hash = "7c8d9e0f1a";
    new_t.image = "registry.example.com/shop/orders:1.9.1";
    new_t.env["DB_HOST"] = "orders-db.internal:5432";
    sim.server.store().upsert(sim::Res::kReplicaSets,
                              sim::make_revision_replicaset(old_t, 1, 0, sim.now - 86400));
    sim.server.store().upsert(sim::Res::kReplicaSets,
                              sim::make_revision_replicaset(new_t, 2, 1, sim.now - 89));
    new_t.name = "orders-7c8d9e0f1a-q4w2x";
    auto pod = sim::make_pod(new_t, sim.now - 60);
    sim::set_crashloop(pod, "app", 1, "Error", ++sim.now);
    sim.server.set_logs("shop", new_t.name, "app", "", "fatal: cannot connect to DB_HOST\n");
    sim.server.store().upsert(sim::Res::kPods, pod);
  });
  json opened;
  REQUIRE(eventually(
      [&] {
        for (const auto& r : webhook.requests()) {
          auto j = json::parse(r.body, nullptr, false);
          if (j.is_object() && j["type"] == "incident.opened" &&
              j["incident"]["workload"]["name"] == "orders") {
            opened = j;
            return true;
          }
        }
        return false;
      },
      30s));
  INFO(opened.dump(2));
  REQUIRE(opened["changes"].is_array());
  REQUIRE(opened["changes"].size() == 2);
  CHECK(opened["changes"][0] == json{{"field", "image"},
                                     {"container", "app"},
                                     {"from", "registry.example.com/shop/orders:1.9.0"},
                                     {"to", "registry.example.com/shop/orders:1.9.1"}});
  CHECK(opened["changes"][1] ==
        json{{"field", "env"}, {"container", "app"}, {"from", ""}, {"to", "DB_HOST"}});
  CHECK(opened["facts"].get<std::string>().find(
            "container app: after the rollout: image registry.example.com/shop/orders:1.9.1 (was "
            "registry.example.com/shop/orders:1.9.0); env DB_HOST added | 1 pod") !=
        std::string::npos);
  CHECK(opened.dump().find("orders-db.internal") == std::string::npos);  // never an env value

  // cart's first pod is OOM-killed on worker-1, which is under MemoryPressure.
  const std::string victim = sim.call([&] {
    auto pods = sim.cluster.pods_of("shop", "cart");
    std::string name;
    for (const auto& p : pods) {
      auto pod = *sim.server.store().get(sim::Res::kPods, "shop", p);
      if (pod["spec"]["nodeName"] == "worker-1") name = p;
    }
    sim.server.store().upsert(sim::Res::kNodes, sim::make_node("worker-1", true, sim.now - 120));
    sim.server.store().upsert(sim::Res::kNodes, sim::make_node("worker-2", false, sim.now - 120));
    sim.server.store().upsert(
        sim::Res::kEvents,
        sim::make_node_event("worker-1", "Warning", "SystemOOM",
                             "System OOM encountered, victim process: java, pid: 4242", sim.now));
    auto pod = *sim.server.store().get(sim::Res::kPods, "shop", name);
    sim::set_crashloop(pod, "app", 137, "OOMKilled", ++sim.now);
    sim.server.set_logs("shop", name, "app", "", "loading catalogue\n");
    sim.server.store().upsert(sim::Res::kPods, pod);
    return name;
  });
  REQUIRE_FALSE(victim.empty());
  REQUIRE(eventually(
      [&] {
        for (const auto& r : ollama.requests())
          if (r.body.find("node worker-1 ran out of memory (MemoryPressure True since") !=
              std::string::npos)
            return true;
        return false;
      },
      30s));
  auto diag = http::request(
      "POST", "http://127.0.0.1:" + std::to_string(port) + "/diagnose",
      {"Content-Type: application/json"},
      json{{"question", "why?"}, {"namespace", "shop"}, {"pod", victim}}.dump(), 30s, 4 << 20);
  CHECK(diag.status == 200);
  CHECK(diag.body.find("SystemOOM (x1)") != std::string::npos);
  CHECK(diag.body.find("hit its own memory limit") == std::string::npos);
  CHECK(podmedic.terminate() == 0);
}
