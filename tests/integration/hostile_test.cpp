// Hostile peers, end to end through the podmedic binary: a webhook that answers with an absurd
// Retry-After and then 200 with garbage, a Slack Web API whose replies have the wrong JSON
// types, an OpenAI-compatible LLM server answering "content": null, and state files of the
// wrong shape. podmedic must stay up, still deliver each alert exactly once (rules-based when
// the LLM is useless), and count every bad answer in podmedic_peer_errors_total{peer,kind}.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

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
namespace fs = std::filesystem;
using test::eventually;
using test::http_port_of;
using test::metric;

namespace {

std::size_t count_type(const test::HttpMock& m, const std::string& type) {
  std::size_t n = 0;
  for (auto& r : m.requests()) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("type") && j["type"] == type) ++n;
  }
  return n;
}

std::string peer(const char* p, const char* kind) {
  return std::string("podmedic_peer_errors_total{kind=\"") + kind + "\",peer=\"" + p + "\"}";
}

}  // namespace

TEST_CASE("hostile webhook, Slack and LLM: podmedic stays up and every alert goes out once") {
  test::E2eCluster env("hostile");
  std::atomic<int> webhook_calls{0};
  test::HttpMock webhook([&](const test::MockRequest&) -> test::MockResponse {
    // First an absurd Retry-After (std::stol aborted on it), then 200 with a garbage body.
    if (webhook_calls++ == 0) return {429, "slow down", {{"Retry-After", "99999999999999999999"}}};
    return {200, "\xff\xfe<html>not json", {}};
  });
  test::HttpMock slack([](const test::MockRequest& r) -> test::MockResponse {
    if (r.target.find("chat.postMessage") != std::string::npos)
      return {200, R"({"ok":"true","ts":5,"error":null})", {}};
    return {200, R"({"ok":1})", {}};
  });
  test::HttpMock llm([](const test::MockRequest& r) -> test::MockResponse {
    if (r.target == "/v1/models") return {200, R"({"data":"not a list"})", {}};
    return {
        200,
        R"({"model":7,"choices":[{"message":{"role":"assistant","content":null},"finish_reason":5}]})",
        {}};
  });
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  name: hostile\n  kubeconfig: " << (env.dir / "kubeconfig").string() << "\n"
      << "diagnosis:\n  waitBeforeNotify: 2s\n"
      << "ollama:\n  url: " << llm.url("") << "\n  api: openai\n  timeout: 5s\n"
      << "notifiers:\n  slack:\n    - name: ops\n      botToken: xoxb-test\n      channel: C1\n"
      << "      apiUrl: " << slack.url("/api") << "\n"
      << "  webhooks:\n    - name: pager\n      url: " << webhook.url() << "\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"
      << "log:\n  format: json\n";
  test::Child podmedic({PODMEDIC_BINARY, "run", "--config", (env.dir / "podmedic.yaml").string()},
                       env.dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));
  unsigned port = 0;
  REQUIRE(eventually([&] { return (port = http_port_of(podmedic)) != 0; }));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  env.crash("shop", "cart");
  // The webhook: refused once with the absurd header, then accepted with garbage (delivered).
  REQUIRE(eventually([&] { return webhook_calls.load() >= 2; }, 30s));
  REQUIRE(eventually([&] { return slack.count() >= 1; }));
  http::PostResult m;
  REQUIRE(eventually([&] {
    m = http::request("GET", base + "/metrics", {}, "", 5s, 1 << 20);
    return metric(m.body, "podmedic_notifications_total{notifier=\"pager\",outcome=\"sent\"}") ==
               1 &&
           metric(m.body, "podmedic_notifications_total{notifier=\"ops\",outcome=\"sent\"}") >= 1;
  }));
  CHECK(podmedic.running());
  CHECK(count_type(webhook, "incident.opened") == 2);  // the refused attempt and the delivery
  auto opened = json::parse(webhook.requests().back().body);
  CHECK(opened["incident"]["reason"] == "CrashLoopBackOff");
  CHECK(opened["facts"].get<std::string>().find("cart") != std::string::npos);
  CHECK((!opened.contains("diagnosis") || opened["diagnosis"]["source"] == "rules"));
  // Counted, by fixed kinds.
  CHECK(metric(m.body, peer("webhook", "bad_header")) >= 1);
  CHECK(metric(m.body, peer("llm", "wrong_type")) >= 1);
  CHECK(metric(m.body, peer("slack", "wrong_type")) >= 1);
  CHECK(metric(m.body, peer("apiserver", "malformed")) == 0);

  // /ask and /models answer errors as JSON, the process stays up.
  auto ask = http::request("POST", base + "/ask", {"Content-Type: application/json"},
                           R"({"question":"hi"})", 10s);
  CHECK(ask.status == 503);
  CHECK(json::parse(ask.body, nullptr, false).contains("error"));
  auto models = http::request("GET", base + "/models", {}, "", 10s);
  CHECK(models.status / 100 != 0);
  CHECK(podmedic.running());

  // A restart reads its own state and outbox again: no abort, no second alert.
  std::size_t before = webhook.count(), slack_before = slack.count();
  CHECK(podmedic.terminate() == 0);
  test::Child again({PODMEDIC_BINARY, "run", "--config", (env.dir / "podmedic.yaml").string()},
                    env.dir.string());
  port = 0;
  REQUIRE(eventually([&] { return (port = http_port_of(again)) != 0; }));
  REQUIRE(eventually([&] {
    return http::request("GET", "http://127.0.0.1:" + std::to_string(port) + "/readyz", {}, "", 5s)
               .status == 200;
  }));
  CHECK(again.running());
  CHECK(webhook.count() == before);
  CHECK(slack.count() == slack_before);
}

TEST_CASE("wrong-typed state files are set aside at start and podmedic watches on") {
  test::E2eCluster env("hostile-state");
  test::HttpMock webhook([](const test::MockRequest&) { return test::MockResponse{}; });
  // Valid JSON of the wrong shape in each file podmedic reads back at start.
  std::ofstream(env.dir / "state" / "incidents.json") << R"({"version":"1","open":"x"})";
  std::ofstream(env.dir / "state" / "outbox-pager.json")
      << R"({"version":1,"messages":[{"id":5,"body":"x"}]})";
  std::ofstream(env.dir / "state" / "slack-threads-ops.json")
      << R"({"version":1,"threads":[{"incident":5,"ts":"1.2"}]})";
  test::HttpMock slack([](const test::MockRequest&) -> test::MockResponse {
    return {200, R"({"ok":true,"ts":"1.2"})", {}};
  });
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  kubeconfig: " << (env.dir / "kubeconfig").string() << "\n"
      << "diagnosis:\n  enabled: false\n"
      << "notifiers:\n  slack:\n    - name: ops\n      botToken: xoxb-test\n      channel: C1\n"
      << "      apiUrl: " << slack.url("/api") << "\n"
      << "  webhooks:\n    - name: pager\n      url: " << webhook.url() << "\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"
      << "log:\n  format: json\n";
  test::Child podmedic({PODMEDIC_BINARY, "run", "--config", (env.dir / "podmedic.yaml").string()},
                       env.dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));
  env.crash("shop", "cart");
  REQUIRE(eventually([&] { return count_type(webhook, "incident.opened") == 1; }));
  REQUIRE(eventually([&] { return slack.count() == 1; }));
  CHECK(podmedic.running());
  std::size_t aside = 0;
  for (auto& e : fs::directory_iterator(env.dir / "state"))
    if (e.path().filename().string().find(".corrupt-") != std::string::npos) ++aside;
  CHECK(aside == 3);
}

TEST_CASE(
    "SIGTERM with an LLM call and a webhook delivery hanging ends in time and keeps the alert") {
  test::E2eCluster env("hostile-stop");
  test::HttpMock webhook([](const test::MockRequest&) {
    test::MockResponse r;
    r.hang = true;  // never answers
    return r;
  });
  test::HttpMock llm([](const test::MockRequest& r) -> test::MockResponse {
    if (r.target == "/api/tags") return {200, R"({"models":[{"name":"mistral:latest"}]})", {}};
    test::MockResponse hang;
    hang.hang = true;
    return hang;
  });
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  kubeconfig: " << (env.dir / "kubeconfig").string() << "\n"
      << "diagnosis:\n  waitBeforeNotify: 1s\n"
      << "ollama:\n  url: " << llm.url("") << "\n  timeout: 120s\n"
      << "notifiers:\n  webhooks:\n    - name: pager\n      url: " << webhook.url() << "\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"
      << "log:\n  format: json\n";
  test::Child podmedic({PODMEDIC_BINARY, "run", "--config", (env.dir / "podmedic.yaml").string()},
                       env.dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));
  env.crash("shop", "cart");
  // Both peers now hold a request open.
  REQUIRE(eventually([&] { return webhook.count() >= 1; }, 30s));
  REQUIRE(eventually([&] {
    for (const auto& r : llm.requests())
      if (r.target == "/api/chat") return true;
    return false;
  }));
  auto t0 = std::chrono::steady_clock::now();
  CHECK(podmedic.terminate() == 0);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < 10s);
  // The alert was not delivered: it is still in the outbox for the next start.
  std::ifstream outbox(env.dir / "state" / "outbox-pager.json");
  std::stringstream ss;
  ss << outbox.rdbuf();
  CHECK(ss.str().find("incident.opened") != std::string::npos);
}
