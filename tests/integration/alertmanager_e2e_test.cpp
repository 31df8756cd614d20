// Both directions end to end: the podmedic binary (simulated cluster, a webhook receiver, the
// LLM down) and the real Alertmanager, whose route's webhook receiver is podmedic's
// POST /api/alertmanager. podmedic's own incident reaches Alertmanager and comes back, ignored;
// an alert Prometheus would fire for a pod of that incident is attached to it; one for a pod
// podmedic knows nothing wrong about gets evidence and a (rules-based) diagnosis; both go to the
// webhook as alert.diagnosed and are listed in /api/incidents with "source": "alertmanager".
#include <catch2/catch.hpp>

#include <fstream>

#include "core/units.h"
#include "tests/e2e_support.h"
#include "tests/http_mock.h"
#include "tests/real_alertmanager.h"
#include "tests/support.h"

using namespace podmedic;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;

namespace {

std::vector<json> bodies(const test::HttpMock& m, const std::string& type) {
  std::vector<json> out;
  for (const auto& r : m.requests()) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j["type"] == type) out.push_back(j);
  }
  return out;
}

json prometheus_alert(const std::string& alertname, const std::string& ns, const std::string& pod) {
  return {{"labels",
           {{"alertname", alertname}, {"namespace", ns}, {"pod", pod}, {"severity", "warning"}}},
          {"annotations", {{"summary", "from Prometheus"}}},
          {"startsAt", format_rfc3339(std::time(nullptr) - 60)}};
}

}  // namespace

TEST_CASE("podmedic and the real Alertmanager in both directions") {
  test::E2eCluster env("am-e2e");
  test::HttpMock webhook([](const test::MockRequest&) { return test::MockResponse{}; });
  test::HttpMock llm([](const test::MockRequest&) {
    return test::MockResponse{500, R"({"error":"model runner unavailable"})", {}};
  });
  const unsigned short port = test::free_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  test::RealAlertmanager am(base + "/api/alertmanager");
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  name: e2e\n  kubeconfig: " << (env.dir / "kubeconfig").string() << "\n"
      << "diagnosis:\n  waitBeforeNotify: 1s\n"
      << "notifiers:\n  webhooks:\n    - name: hook\n      url: " << webhook.url() << "\n"
      << "  alertmanager:\n    - name: am\n      url: " << am.url() << "\n"
      << "      labels: {team: platform}\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:" << port << "\n"
      << "ollama:\n  url: " << llm.url("") << "\n"
      << "log:\n  format: json\n  level: info\n";
  test::Child podmedic({PODMEDIC_BINARY, "run", "--config", (env.dir / "podmedic.yaml").string()},
                       env.dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));

  // Direction 1: podmedic's incident in Alertmanager (it comes back to podmedic, ignored).
  env.crash("shop", "cart");
  REQUIRE(eventually([&] { return bodies(webhook, "incident.opened").size() == 1; }));
  const std::string id = bodies(webhook, "incident.opened")[0]["incident"]["id"];
  REQUIRE(eventually([&] { return !am.alert("podmedic_incident", id).is_null(); }, 15s));
  auto ours = am.alert("podmedic_incident", id);
  CHECK(ours["labels"]["alertname"] == "PodCrashLooping");
  CHECK(ours["labels"]["team"] == "platform");
  CHECK(ours["labels"]["workload"] == "cart");

  // Direction 2: what Prometheus would fire, posted to Alertmanager, routed to podmedic.
  auto cart = env.sim.call([&] { return env.sim.cluster.pods_of("shop", "cart"); });
  auto api = env.sim.call([&] { return env.sim.cluster.pods_of("payments", "api"); });
  REQUIRE(!cart.empty());
  REQUIRE(!api.empty());
  auto posted =
      am.post("/api/v2/alerts",
              json::array({prometheus_alert("KubePodCrashLooping", "shop", cart[0]),
                           prometheus_alert("KubeContainerWaiting", "payments", api[0])}));
  REQUIRE(posted.status == 200);
  REQUIRE(eventually([&] { return bodies(webhook, "alert.diagnosed").size() == 2; }, 20s));
  std::map<std::string, json> diagnosed;
  for (const auto& b : bodies(webhook, "alert.diagnosed"))
    diagnosed[b["alert"]["alertname"].get<std::string>()] = b;
  REQUIRE(diagnosed.count("KubePodCrashLooping"));
  REQUIRE(diagnosed.count("KubeContainerWaiting"));
  auto attached = diagnosed["KubePodCrashLooping"];
  CHECK(attached["cluster"] == "e2e");
  CHECK(attached["incidentId"] == id);  // podmedic's own incident: no second diagnosis
  CHECK(attached["alert"]["pod"] == cart[0]);
  CHECK(attached["facts"].get<std::string>().find("cart") != std::string::npos);
  auto fresh = diagnosed["KubeContainerWaiting"];
  CHECK_FALSE(fresh.contains("incidentId"));
  CHECK(fresh["alert"]["namespace"] == "payments");
  CHECK(fresh["alert"]["labels"]["severity"] == "warning");
  CHECK(fresh["diagnosis"]["source"] == "rules");  // the LLM is down
  CHECK(fresh["facts"].get<std::string>().find(api[0]) != std::string::npos);

  // Listed in /api/incidents (its snapshot is rebuilt on the pipeline thread: eventually);
  // counted; podmedic's own alert never diagnosed as an alert.
  std::string listed;
  const bool both_listed = eventually([&] {
    listed = http::request("GET", base + "/api/incidents", {}, "", 5s, 1u << 20).body;
    auto incidents = json::parse(listed, nullptr, false);
    if (!incidents.is_object() || !incidents["incidents"].is_array()) return false;
    std::size_t from_am = 0;
    for (const auto& i : incidents["incidents"]) from_am += i.value("source", "") == "alertmanager";
    return from_am == 2;
  });
  INFO(listed);
  CHECK(both_listed);
  auto metrics = http::request("GET", base + "/metrics", {}, "", 5s, 1u << 20).body;
  CHECK(test::metric(metrics, R"(podmedic_alertmanager_alerts_total{outcome="attached"})") == 1);
  CHECK(test::metric(metrics, R"(podmedic_alertmanager_alerts_total{outcome="diagnosed"})") == 1);
  CHECK(bodies(webhook, "alert.diagnosed").size() == 2);
  CHECK(podmedic.terminate() == 0);
}
