// End to end, as a user runs it: the podmedic binary (`podmedic run --config`) against a TLS
// simulated cluster through a kubeconfig, with a fake Slack and a fake webhook receiver.
// Replicas crash → exactly one alert per destination; SIGTERM; restart; no duplicate; the pods
// heal → one incident.resolved.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/http.h"
#include "notifiers/webhook.h"
#include "sim/objects.h"
#include "tests/e2e_support.h"
#include "tests/http_mock.h"
#include "tests/process.h"
#include "tests/support.h"

using namespace podmedic;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;
using test::E2eCluster;
using test::eventually;
using test::http_port_of;

namespace {

std::vector<json> bodies(const test::HttpMock& m, const std::string& type) {
  std::vector<json> out;
  for (auto& r : m.requests()) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}
// `promtool check metrics` (Debian's prometheus package; scripts/setup.sh) on an exposition:
// the format and Prometheus' naming lints. Skipped with a warning where promtool is missing,
// except in CI.
void check_metrics_with_promtool(const std::string& exposition) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (std::getenv("CI")) FAIL("promtool not found: run scripts/setup.sh");
    WARN("promtool not installed (scripts/setup.sh); skipping promtool check metrics");
    return;
  }
  test::TempDir dir;
  auto file = dir.write("metrics.txt", exposition);
  test::Child promtool({"/bin/sh", "-c", "promtool check metrics < " + file}, dir.path.string());
  const int code = promtool.wait();
  INFO(promtool.output());
  CHECK(code == 0);
}

}  // namespace

TEST_CASE("podmedic run alerts once per broken workload across a restart and resolves") {
  E2eCluster env("e2e");
  auto& dir = env.dir;
  auto& sim = env.sim;
  test::HttpMock webhook([](const test::MockRequest&) { return test::MockResponse{}; });
  test::HttpMock slack([](const test::MockRequest&) { return test::MockResponse{}; });
  // The LLM is down: alerts carry the key log lines (never the default 127.0.0.1:11434).
  test::HttpMock llm([](const test::MockRequest&) {
    return test::MockResponse{500, R"({"error":"model runner unavailable"})", {}};
  });
  setenv("E2E_WEBHOOK_SECRET", "e2e-secret", 1);
  setenv("E2E_API_TOKEN", "e2e-api-token", 1);
  std::ofstream(dir / "podmedic.yaml")
      << "cluster:\n  name: e2e\n  kubeconfig: " << (dir / "kubeconfig").string()
      << "\nwatch:\n  excludeNamespaces: [batch]\n"
      << "detect:\n  resolveAfter: 2s\n"
      << "notifiers:\n  slack:\n    - name: ops\n      webhookUrl: " << slack.url()
      << "\n  webhooks:\n    - name: pager\n      url: " << webhook.url()
      << "\n      secret: ${E2E_WEBHOOK_SECRET}\n"
      << "state:\n  dir: " << (dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n  token: ${E2E_API_TOKEN}\n"
      << "ollama:\n  url: " << llm.url("") << "\n"
      << "log:\n  format: json\n  level: info\n";
  std::vector<std::string> argv = {PODMEDIC_BINARY, "run", "--config",
                                   (dir / "podmedic.yaml").string()};
  auto crash_cart = [&] {
    sim.call([&] {
      for (const auto& name : sim.cluster.pods_of("shop", "cart")) {
        sim.server.set_logs("shop", name, "app", "",
                            "loading catalogue\nusing "
                            "DB_PASSWORD=hunter2\njava.lang.OutOfMemoryError: Java heap space\n");
        auto pod = *sim.server.store().get(sim::Res::kPods, "shop", name);
        sim::set_crashloop(pod, "app", 137, "OOMKilled", ++sim.now);
        sim.server.store().upsert(sim::Res::kPods, pod);
      }
    });
  };
  auto watching = [&] { return sim.call([&] { return sim.server.open_watches(); }) >= 2; };

  {
    test::Child podmedic(argv, dir.string());
    REQUIRE(eventually(watching));
    crash_cart();
    REQUIRE(eventually(
        [&] { return bodies(webhook, "incident.opened").size() == 1 && slack.count() == 1; }));
    crash_cart();  // restarts climb: no new message
    auto opened = bodies(webhook, "incident.opened")[0];
    CHECK(opened["cluster"] == "e2e");
    CHECK(opened["incident"]["reason"] == "OOMKilled");
    CHECK(opened["incident"]["workload"] == json{{"kind", "Deployment"}, {"name", "cart"}});
    CHECK(opened["incident"]["exitCode"] == 137);
    CHECK(opened["facts"].get<std::string>().find("memory limit 256Mi") != std::string::npos);
    auto req = webhook.requests()[0];
    CHECK(req.headers["x-podmedic-signature"] ==
          "sha256=" + notifiers::hmac_sha256_hex("e2e-secret", req.body));
    // The HTTP side of the running binary: its port is in the JSON log.
    unsigned port = 0;
    REQUIRE(eventually([&] { return (port = http_port_of(podmedic)) != 0; }));
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    CHECK(http::request("GET", base + "/readyz", {}, "", 5s).status == 200);
    // The receiver has the request before the worker has read the response and counted it.
    http::PostResult metrics;
    CHECK(eventually([&] {
      metrics = http::request("GET", base + "/metrics", {}, "", 5s, 1 << 20);
      return metrics.body.find(
                 "podmedic_notifications_total{notifier=\"pager\",outcome=\"sent\"} 1") !=
             std::string::npos;
    }));
    CHECK(metrics.body.find("podmedic_incidents_total{reason=\"OOMKilled\"} 1") !=
          std::string::npos);
    CHECK(metrics.body.find("podmedic_incidents_open{reason=\"OOMKilled\"} 1") !=
          std::string::npos);
    CHECK(metrics.body.find("podmedic_incidents_open{reason=\"CrashLoopBackOff\"} 0") !=
          std::string::npos);
    // What an SRE expects of any exporter, and our own health: leader, synced, watches.
    for (const char* series :
         {"process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_open_fds ",
          "process_max_fds ", "process_start_time_seconds ", "process_virtual_memory_bytes ",
          "podmedic_leader 1", "podmedic_synced 1", "podmedic_watch_connected{resource=\"pods\"} 1",
          "podmedic_watch_connected{resource=\"events\"} 1",
          "podmedic_llm_request_duration_seconds_count{outcome=\"timeout\"} 0"}) {
      CHECK(metrics.body.find(std::string("\n") + series) != std::string::npos);
    }
    check_metrics_with_promtool(metrics.body);
    CHECK(metrics.body.find("podmedic_build_info{version=") != std::string::npos);
    CHECK(metrics.body.find("podmedic_pods_tracked") != std::string::npos);
    CHECK(http::request("GET", base + "/api/incidents", {}, "", 5s).status == 401);
    auto incs = http::request("GET", base + "/api/incidents",
                              {"Authorization: Bearer e2e-api-token"}, "", 5s, 1 << 20);
    REQUIRE(incs.status == 200);
    auto list = json::parse(incs.body)["incidents"];
    REQUIRE(list.size() == 1);
    CHECK(list[0]["reason"] == "OOMKilled");
    CHECK(list[0]["state"] == "open");
    // The alert carries the key log lines of the previous container, redacted.
    auto diag = opened["diagnosis"]["text"].get<std::string>();
    CHECK(diag.find("java.lang.OutOfMemoryError: Java heap space") != std::string::npos);
    CHECK(diag.find("DB_PASSWORD=[REDACTED]") != std::string::npos);
    for (auto& r : webhook.requests()) CHECK(r.body.find("hunter2") == std::string::npos);
    for (auto& r : slack.requests()) CHECK(r.body.find("hunter2") == std::string::npos);
    CHECK(slack.requests()[0].body.find("Key log lines and events") != std::string::npos);
    auto s = json::parse(slack.requests()[0].body);
    CHECK(s["text"].get<std::string>().find("OOMKilled") != std::string::npos);
    CHECK(s["blocks"][0]["type"] == "header");
    CHECK(podmedic.terminate() == 0);
  }
  CHECK(fs::exists(dir / "state" / "incidents.json"));

  // Restart: the cluster is still broken; podmedic must not announce it again.
  test::Child podmedic(argv, dir.string());
  REQUIRE(eventually(watching));
  crash_cart();
  sim.call([&] {
    for (const auto& name : sim.cluster.pods_of("shop", "cart")) {
      auto pod = *sim.server.store().get(sim::Res::kPods, "shop", name);
      sim::set_running(pod, "app", ++sim.now);
      sim.server.store().upsert(sim::Res::kPods, pod);
    }
  });
  REQUIRE(eventually([&] { return bodies(webhook, "incident.resolved").size() == 1; }));
  CHECK(bodies(webhook, "incident.opened").size() == 1);
  CHECK(bodies(webhook, "incident.resolved")[0]["incident"]["id"] ==
        bodies(webhook, "incident.opened")[0]["incident"]["id"]);
  CHECK(eventually([&] { return slack.count() == 2; }));  // the alert, then the resolution
  CHECK(podmedic.terminate() == 0);
}

TEST_CASE("podmedic diagnose prints redacted evidence and the rules-based answer") {
  E2eCluster env("diag", 5);
  auto& dir = env.dir;
  auto& sim = env.sim;
  // The LLM is down (never the default 127.0.0.1:11434): the answer is rules-based.
  test::HttpMock llm([](const test::MockRequest&) {
    return test::MockResponse{500, R"({"error":"model runner unavailable"})", {}};
  });
  std::ofstream(dir / "podmedic.yaml")
      << "cluster:\n  kubeconfig: " << (dir / "kubeconfig").string() << "\n"
      << "ollama:\n  url: " << llm.url("") << "\n";
  auto pods = sim.call([&] { return sim.cluster.pods_of("payments", "api"); });
  REQUIRE(!pods.empty());
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {PODMEDIC_BINARY, "diagnose"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("--config");
    argv.push_back((dir / "podmedic.yaml").string());
    test::Child c(argv, dir.string());
    int code = c.wait();
    return std::make_pair(code, c.output());
  };
  auto [code, out] = run({"payments/" + pods[0], "--question", "why does it crash?"});
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("CrashLoopBackOff in container app: exit 2") != std::string::npos);
  CHECK(out.find("== Logs: app (previous instance) ==") != std::string::npos);
  CHECK(out.find("panic: database unavailable after 3 attempts") != std::string::npos);
  CHECK(out.find("BackOff") != std::string::npos);
  CHECK(out.find("memory 128Mi") != std::string::npos);
  CHECK(out.find("hunter2") == std::string::npos);
  // The error line is shown whole; JSON lines that name no cause are shown as their level,
  // message and error members, so the info line's (redacted) DSN member is dropped.
  CHECK(out.find(
            R"({"level":"error","msg":"dial tcp 10.96.14.7:5432: connect: connection refused"})") !=
        std::string::npos);
  CHECK(out.find("Question: why does it crash?") != std::string::npos);
  CHECK(out.find("== Answer (rules-based; LLM unavailable: ") != std::string::npos);
  CHECK(out.find("model runner unavailable") != std::string::npos);
  auto [nollm_code, nollm_out] = run({"payments/" + pods[0], "--no-llm"});
  CHECK(nollm_code == 0);
  CHECK(nollm_out.find("== Answer (rules-based) ==\n- CrashLoopBackOff in container app") !=
        std::string::npos);

  auto [ns_code, ns_out] = run({"payments"});
  CHECK(ns_code == 0);
  CHECK(ns_out.find("== Pod ==") != std::string::npos);
  CHECK(ns_out.find("=== Deployment/api: ") != std::string::npos);
  // The JSON sink is redacted like the text: the secret in the logs never leaves.
  auto [json_code, json_out] = run({"payments", "-o", "json"});
  INFO(json_out);
  CHECK(json_code == 0);
  CHECK(json_out.find("hunter2") == std::string::npos);
  // (The info line that holds the DSN is reduced away by the log selector; the cause stays.)
  CHECK(json_out.find("connect: connection refused") != std::string::npos);
  auto arr = json::parse(json_out.substr(json_out.find('[')), nullptr, false);
  REQUIRE(arr.is_array());
  REQUIRE(arr.size() == 1);
  CHECK(arr[0]["workload"] == "Deployment/api");
  CHECK(arr[0]["error"].get<std::string>().find("model runner unavailable") != std::string::npos);
  auto [bad_code, bad_out] = run({"payments/ghost"});
  CHECK(bad_code == 1);
  CHECK(bad_out.find("pods \"ghost\" not found") != std::string::npos);
}

TEST_CASE("ask models and diagnose through the binary with a fake Ollama") {
  E2eCluster env("llm", 5);
  auto& dir = env.dir;
  auto& sim = env.sim;
  auto ollama = std::make_unique<test::HttpMock>([](const test::MockRequest& r)
                                                     -> test::MockResponse {
    if (r.target == "/api/tags") return {200, R"({"models":[{"name":"mistral:latest"}]})", {}};
    return {
        200,
        R"({"model":"mistral","message":{"role":"assistant","content":"The database is unreachable."},"done":true,"done_reason":"stop"})",
        {}};
  });
  std::ofstream(dir / "podmedic.yaml")
      << "cluster:\n  kubeconfig: " << (dir / "kubeconfig").string() << "\n"
      << "ollama:\n  url: " << ollama->url("") << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"
      << "state:\n  dir: " << (dir / "state").string() << "\n"
      << "log:\n  format: json\n";
  test::Child podmedic({PODMEDIC_BINARY, "run", "--config", (dir / "podmedic.yaml").string()},
                       dir.string());
  unsigned port = 0;
  REQUIRE(eventually([&] { return (port = http_port_of(podmedic)) != 0; }));
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> json_ct = {"Content-Type: application/json"};

  // The payments/api incident is explained by the LLM on its own (and that is persisted).
  json incident;
  REQUIRE(eventually([&] {
    auto r = http::request("GET", base + "/api/incidents", {}, "", 5s, 1 << 20);
    auto j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("incidents")) return false;
    for (const auto& i : j["incidents"]) {
      if (i.contains("diagnosis") && i["namespace"] == "payments") incident = i;
    }
    return !incident.is_null();
  }));
  CHECK(incident["diagnosis"] ==
        json{{"text", "The database is unreachable."}, {"model", "mistral"}, {"source", "llm"}});
  REQUIRE(ollama->requests().size() >= 2);  // the model check, then the diagnoses
  CHECK(ollama->requests()[0].target == "/api/tags");
  bool payments_prompt = false;
  for (const auto& r : ollama->requests()) {
    if (r.target != "/api/chat") continue;
    auto content = json::parse(r.body)["messages"][1]["content"].get<std::string>();
    CHECK(content.find("hunter2") == std::string::npos);
    if (content.find("panic: database unavailable") != std::string::npos) payments_prompt = true;
  }
  CHECK(payments_prompt);

  auto ask = http::request("POST", base + "/ask", json_ct, R"({"question":"what is a pod?"})", 10s,
                           1 << 20);
  REQUIRE(ask.status == 200);
  CHECK(json::parse(ask.body) ==
        json{{"answer", "The database is unreachable."}, {"model", "mistral"}});
  auto models = http::request("GET", base + "/models", {}, "", 10s, 1 << 20);
  CHECK(json::parse(models.body)["models"][0]["name"] == "mistral:latest");

  auto pods = sim.call([&] { return sim.cluster.pods_of("payments", "api"); });
  REQUIRE(!pods.empty());
  std::string req = json{{"question", "why?"}, {"namespace", "payments"}, {"pod", pods[0]}}.dump();
  auto diag = http::request("POST", base + "/diagnose", json_ct, req, 10s, 1 << 20);
  REQUIRE(diag.status == 200);
  auto d = json::parse(diag.body);
  CHECK(d["answer"] == "The database is unreachable.");
  CHECK(d["context"].get<std::string>().find("panic: database unavailable") != std::string::npos);
  CHECK(diag.body.find("hunter2") == std::string::npos);
  auto prompt = json::parse(ollama->requests().back().body);
  auto user = prompt["messages"][1]["content"].get<std::string>();
  CHECK(user.find("BEGIN EVIDENCE") != std::string::npos);
  CHECK(user.find("panic: database unavailable") != std::string::npos);
  CHECK(user.find("hunter2") == std::string::npos);
  CHECK(prompt["options"]["num_ctx"].is_number());

  auto ns_only = http::request("POST", base + "/diagnose", json_ct,
                               R"({"question":"?","namespace":"payments"})", 10s, 1 << 20);
  CHECK(ns_only.status == 200);
  auto missing =
      http::request("POST", base + "/diagnose", json_ct,
                    R"({"question":"?","namespace":"payments","pod":"ghost"})", 10s, 1 << 20);
  CHECK(missing.status == 404);

  // The one-shot command asks the same LLM and prints its answer after the evidence.
  {
    test::Child cli({PODMEDIC_BINARY, "diagnose", "payments/" + pods[0], "--question", "why?",
                     "--config", (dir / "podmedic.yaml").string()},
                    dir.string());
    CHECK(cli.wait() == 0);
    auto out = cli.output();
    INFO(out);
    CHECK(out.find("== Answer (mistral) ==\nQuestion: why?\nThe database is unreachable.") !=
          std::string::npos);
    CHECK(out.find("== Facts (rules) ==\n- CrashLoopBackOff in container app") !=
          std::string::npos);
    CHECK(out.find("hunter2") == std::string::npos);
  }

  // The LLM fails (a crashed model runner): evidence and facts still come back, with 503.
  // (Connection refused is covered by diagnosis/tests/llm_test.cpp.)
  ollama->set_handler([](const test::MockRequest&) {
    return test::MockResponse{500, R"({"error":"llama runner process has terminated"})", {}};
  });
  auto down = http::request("POST", base + "/diagnose", json_ct, req, 10s, 1 << 20);
  REQUIRE(down.status == 503);
  auto dj = json::parse(down.body);
  CHECK(dj["error"].get<std::string>().find("llama runner process has terminated") !=
        std::string::npos);
  CHECK(dj["context"].get<std::string>().find("panic: database unavailable") != std::string::npos);
  CHECK(dj["facts"][0].get<std::string>().find("CrashLoopBackOff in container app") !=
        std::string::npos);
  auto metrics = http::request("GET", base + "/metrics", {}, "", 5s, 1 << 20);
  INFO(metrics.body);
  auto value = [&](const std::string& series) {
    auto p = metrics.body.find("\n" + series + " ");
    return p == std::string::npos ? -1.0 : std::stod(metrics.body.substr(p + series.size() + 2));
  };
  // 3 HTTP answers plus one LLM call per distinct incident (each crashing workload of the
  // demo so far); pods that joined them were answered from the cache.
  const double ok = value("podmedic_diagnoses_total{outcome=\"ok\"}");
  const double incident_calls = ok - 3;
  CHECK(incident_calls >= 1);
  CHECK(incident_calls <= 3);
  CHECK(value("podmedic_diagnoses_total{outcome=\"llm_error\"}") == 1);
  CHECK(value("podmedic_llm_request_duration_seconds_count{outcome=\"ok\"}") == ok);
  CHECK(value("podmedic_llm_request_duration_seconds_count{outcome=\"error\"}") == 1);
  CHECK(podmedic.terminate() == 0);
}

TEST_CASE("two podmedic processes with ha: SIGKILL the leader mid-storm and nothing repeats") {
  E2eCluster env("ha-e2e");
  auto& dir = env.dir;
  auto& sim = env.sim;
  // The receiver is down at first: the leader's alert waits in its outbox when it dies.
  std::atomic<bool> down{true};
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> delivered;  // fingerprint, delivery id
  test::HttpMock webhook([&](const test::MockRequest& r) {
    if (down) return test::MockResponse{503, "down for maintenance", {}};
    auto j = json::parse(r.body, nullptr, false);
    std::lock_guard lock(mu);
    delivered.emplace_back(j["incident"]["fingerprint"].get<std::string>(),
                           r.headers.at("x-podmedic-delivery"));
    return test::MockResponse{};
  });
  auto config_for = [&](const std::string& id) {
    auto path = dir / (id + ".yaml");
    std::ofstream(path) << "cluster:\n  name: ha\n  kubeconfig: " << (dir / "kubeconfig").string()
                        << "\ndiagnosis:\n  enabled: false\n  waitBeforeNotify: 0s\n"
                        << "notifiers:\n  webhooks:\n    - name: pager\n      url: "
                        << webhook.url() << "\nstate:\n  dir: " << (dir / id).string() << "\n"
                        << "server:\n  listen: 127.0.0.1:0\n"
                        << "ha:\n  enabled: true\n  leaseNamespace: podmedic\n  identity: " << id
                        << "\n  leaseDuration: 2s\n  renewDeadline: 1500ms\n  retryPeriod: 200ms\n"
                        << "log:\n  format: json\n";
    return path.string();
  };
  auto holder = [&] {
    return sim.call([&] {
      auto l = sim.server.store().get(sim::Res::kLeases, "podmedic", "podmedic");
      return l ? (*l)["spec"].value("holderIdentity", "") : std::string();
    });
  };
  auto mirrored = [&](const char* key, const char* needle) {
    return sim.call([&] {
      auto cm = sim.server.store().get(sim::Res::kConfigMaps, "podmedic", "podmedic-state");
      return cm && (*cm)["data"].contains(key) &&
             (*cm)["data"][key].get<std::string>().find(needle) != std::string::npos;
    });
  };
  auto crash = [&](const std::string& ns, const std::string& deployment) {
    sim.call([&] {
      for (const auto& name : sim.cluster.pods_of(ns, deployment)) {
        auto pod = *sim.server.store().get(sim::Res::kPods, ns, name);
        sim::set_crashloop(pod, "app", 1, "Error", ++sim.now);
        sim.server.store().upsert(sim::Res::kPods, pod);
      }
    });
  };
  test::Child a({PODMEDIC_BINARY, "run", "--config", config_for("a")}, dir.string());
  REQUIRE(eventually([&] { return holder() == "a"; }));
  test::Child b({PODMEDIC_BINARY, "run", "--config", config_for("b")}, dir.string());
  REQUIRE(eventually([&] { return http_port_of(b) != 0; }));
  crash("payments", "api");
  // Announced (state) and undelivered (outbox), both mirrored by the leader.
  REQUIRE(eventually([&] { return mirrored("incidents.json", "payments"); }));
  REQUIRE(eventually([&] { return mirrored("outbox.json", "payments"); }));
  std::string first_attempt_id;
  for (const auto& r : webhook.requests()) first_attempt_id = r.headers.at("x-podmedic-delivery");
  // The leader dies without a word; the receiver comes back; the storm goes on.
  ::kill(a.pid, SIGKILL);
  a.wait();
  down = false;
  crash("payments", "api");
  crash("shop", "cart");
  REQUIRE(eventually([&] { return holder() == "b"; }));
  REQUIRE(eventually([&] {
    std::lock_guard lock(mu);
    return delivered.size() >= 2;
  }));
  std::lock_guard lock(mu);
  std::map<std::string, int> per_fingerprint;
  for (const auto& [fp, id] : delivered) ++per_fingerprint[fp];
  CHECK(per_fingerprint.size() == 2);
  for (const auto& [fp, n] : per_fingerprint) {
    INFO(fp);
    CHECK(n == 1);  // neither lost nor repeated
  }
  // The dead leader's message went out with its own delivery id.
  bool same_id = false;
  for (const auto& [fp, id] : delivered) same_id = same_id || id == first_attempt_id;
  CHECK(same_id);
  CHECK(b.terminate() == 0);
}
