// Redaction end to end through the podmedic binary: every secret shape of the corpus
// (diagnosis/tests/data/secret_shapes.txt) is planted in a crashing container's previous log,
// its termination message and a Warning event; the fake LLM echoes some of them back. No secret
// value may reach any sink: the webhook, Slack, Alertmanager, PagerDuty and Teams payloads (and
// the alert.diagnosed of an Alertmanager alert whose labels carry one), the LLM prompts,
// /api/incidents, /diagnose, MCP's diagnose and get_incident, podmedic's own log, and every file
// under state.dir. The PagerDuty routing key and the Teams URL's signature reach only their own
// service.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/http.h"
#include "diagnosis/tests/corpus.h"
#include "notifiers/tests/fake_pagerduty.h"
#include "notifiers/tests/fake_teams.h"
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

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("no secret shape reaches any sink, whatever source it came from") {
  const auto shapes = test::load_secret_shapes();
  REQUIRE(shapes.size() >= 80);
  std::vector<std::string> secrets;
  std::string log = "starting app\n";
  for (const auto& s : shapes) {
    log += s.text + "\n";
    for (const auto& v : s.secrets) secrets.push_back(v);
  }
  log += "fatal: giving up\n";
  // ollama.url may carry credentials: they must not show up anywhere either.
  const std::string kUrlPassword = "0llamaUrlPa55";
  secrets.push_back(kUrlPassword);
  // A termination message is at most 4 KiB (the kubelet cuts it); an event message 1 KiB.
  std::string termination, event;
  for (const auto& s : shapes) {
    if (termination.size() + s.text.size() < 4000) termination += s.text + "\n";
  }
  for (const auto& s : shapes) {
    if (event.size() + s.text.size() < 1000 && s.text.find('\n') == std::string::npos)
      event += s.text + "; ";
  }

  test::E2eCluster env("redaction");
  const fs::path& dir = env.dir;
  auto& sim = env.sim;
  test::HttpMock webhook([](const test::MockRequest&) { return test::MockResponse{}; });
  test::HttpMock slack([](const test::MockRequest&) { return test::MockResponse{}; });
  test::HttpMock alertmanager([](const test::MockRequest&) { return test::MockResponse{}; });
  test::FakePagerDuty fake_pd;
  test::HttpMock pagerduty([&](const test::MockRequest& r) { return fake_pd.handle(r); });
  test::FakeTeams fake_teams;
  test::HttpMock teams([&](const test::MockRequest& r) { return fake_teams.handle(r); });
  const std::string kTeamsSig = "TeamsSig0nature5ecret";
  // The LLM repeats a few secrets it saw: its answer must be redacted too.
  const std::string echoed = shapes[0].secrets[0] + " " + shapes[5].text;
  test::HttpMock ollama([&](const test::MockRequest& r) -> test::MockResponse {
    if (r.target == "/api/tags") return {200, R"({"models":[{"name":"mistral:latest"}]})", {}};
    json answer = {{"model", "mistral"},
                   {"message", {{"role", "assistant"}, {"content", "The cause: " + echoed}}},
                   {"done", true}};
    return {200, answer.dump(), {}};
  });
  std::ofstream(dir / "podmedic.yaml")
      << "cluster:\n  name: redaction\n  kubeconfig: " << (dir / "kubeconfig").string() << "\n"
      << "diagnosis:\n  waitBeforeNotify: 5s\n"
      << "ollama:\n  url: http://podmedic:" << kUrlPassword << "@"
      << ollama.url("").substr(std::string("http://").size()) << "\n"
      << "notifiers:\n  slack:\n    - name: ops\n      webhookUrl: " << slack.url() << "\n"
      << "  webhooks:\n    - name: pager\n      url: " << webhook.url() << "\n"
      << "  alertmanager:\n    - name: am\n      url: " << alertmanager.url("") << "\n"
      << "  pagerduty:\n    - name: pd\n      routingKey: " << test::FakePagerDuty::kKey
      << "\n      url: " << pagerduty.url("/v2/enqueue") << "\n"
      << "  teams:\n    - name: oncall\n      webhookUrl: "
      << teams.url("/workflows?sig=" + kTeamsSig) << "\n"
      << "state:\n  dir: " << (dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"
      << "log:\n  format: json\n  level: debug\n";
  test::Child podmedic({PODMEDIC_BINARY, "run", "--config", (dir / "podmedic.yaml").string()},
                       dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));
  unsigned port = 0;
  REQUIRE(eventually([&] { return (port = test::http_port_of(podmedic)) != 0; }));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  const auto pods = sim.call([&] { return sim.cluster.pods_of("shop", "cart"); });
  REQUIRE(pods.size() >= 2);
  const std::string pod_name = pods[0];
  sim.call([&] {
    // cart was rolled out a minute ago with every one-line secret shape in its args: what changed
    // (the webhook's "changes", the facts line, the prompt) must be redacted too.
    sim::PodTemplate before;
    before.ns = "shop";
    before.deployment = "cart";
    before.rs_hash = "0a1b2c3d4e";
    sim::PodTemplate after = before;
    after.rs_hash = "7d9f8b6c5d";
    for (const auto& sh : shapes)
      if (sh.text.find('\n') == std::string::npos) after.args.push_back(sh.text);
    sim.server.store().upsert(sim::Res::kReplicaSets,
                              sim::make_revision_replicaset(before, 1, 0, sim.now - 86400));
    sim.server.store().upsert(sim::Res::kReplicaSets,
                              sim::make_revision_replicaset(after, 2, 3, sim.now - 60));
    sim.server.set_logs("shop", pod_name, "app", "", log);
    auto pod = *sim.server.store().get(sim::Res::kPods, "shop", pod_name);
    sim::set_crashloop(pod, "app", 1, "Error", ++sim.now);
    for (auto& cs : pod["status"]["containerStatuses"]) {
      if (cs["name"] == "app") cs["lastState"]["terminated"]["message"] = termination;
    }
    sim.server.store().upsert(
        sim::Res::kEvents,
        sim::make_pod_event(pod, "app", "Warning", "FailedMount", event, 1, sim.now));
    sim.server.store().upsert(sim::Res::kPods, pod);
    // A second replica shows its termination in `state` (before the back-off starts): the
    // kubelet's termination message (with FallbackToLogsOnError, the log tail) is right there.
    auto other = *sim.server.store().get(sim::Res::kPods, "shop", pods[1]);
    sim::set_terminated(other, "app", 137, "OOMKilled", ++sim.now);
    for (auto& cs : other["status"]["containerStatuses"]) {
      if (cs["name"] == "app") cs["state"]["terminated"]["message"] = termination;
    }
    sim.server.set_logs("shop", pods[1], "app", log, "");
    sim.server.store().upsert(sim::Res::kPods, other);
  });
  // The alert, then the diagnosis (with the LLM's echo) either on it or as a follow-up.
  REQUIRE(eventually(
      [&] {
        for (const auto& r : webhook.requests())
          if (r.body.find("\"diagnosis\"") != std::string::npos) return true;
        return false;
      },
      30s));
  // PagerDuty and Teams got every message the webhook got (the alert, and the diagnosis on it or
  // after it).
  const std::size_t delivered = webhook.count();
  REQUIRE(eventually([&] { return pagerduty.count() >= delivered && teams.count() >= delivered; },
                     30s));
  // An Alertmanager alert whose labels carry secrets: its alert.diagnosed must not.
  json am_alert = {{"status", "firing"},
                   {"labels",
                    {{"alertname", "KubePodCrashLooping"},
                     {"namespace", "shop"},
                     {"pod", pods[1]},
                     {"note", shapes[0].text}}},
                   {"startsAt", "2026-12-02T08:00:00Z"},
                   {"fingerprint", "feedbeef"}};
  auto am_post = http::request(
      "POST", base + "/api/alertmanager", {"Content-Type: application/json"},
      json{{"version", "4"}, {"status", "firing"}, {"alerts", {am_alert}}}.dump(), 5s);
  CHECK(am_post.status == 202);
  REQUIRE(eventually(
      [&] {
        for (const auto& r : webhook.requests())
          if (r.body.find("alert.diagnosed") != std::string::npos) return true;
        return false;
      },
      30s));
  auto diag = http::request(
      "POST", base + "/diagnose", {"Content-Type: application/json"},
      json{{"question", "why?"}, {"namespace", "shop"}, {"pod", pod_name}}.dump(), 30s, 4 << 20);
  CHECK(diag.status == 200);
  auto incidents = http::request("GET", base + "/api/incidents", {}, "", 5s, 4 << 20);
  CHECK(incidents.status == 200);
  // MCP: the same evidence through diagnose, and the incident through get_incident.
  // (2025-06-18: the result carries structuredContent, where a secret is escaped only once.)
  auto mcp = [&](const std::string& tool, const json& args) {
    json call = {{"jsonrpc", "2.0"},
                 {"id", 1},
                 {"method", "tools/call"},
                 {"params", {{"name", tool}, {"arguments", args}}}};
    auto r = http::request("POST", base + "/mcp",
                           {"Content-Type: application/json", "MCP-Protocol-Version: 2025-06-18"},
                           call.dump(), 50s, 4 << 20);
    CHECK(r.status == 200);
    auto j = json::parse(r.body, nullptr, false);
    CHECK((j.is_object() && j.contains("result") && j["result"]["isError"] == false));
    return r.body;
  };
  const std::string mcp_diagnose =
      mcp("diagnose", {{"namespace", "shop"}, {"pod", pod_name}, {"question", "why?"}});
  auto listed = json::parse(incidents.body, nullptr, false);
  REQUIRE((listed.is_object() && !listed["incidents"].empty()));
  const std::string mcp_incident =
      mcp("get_incident", {{"id", listed["incidents"][0]["id"].get<std::string>()}});
  CHECK(podmedic.terminate() == 0);

  // Every sink, with where a secret showed up.
  std::vector<std::pair<std::string, std::string>> sinks;
  for (const auto& r : webhook.requests()) sinks.emplace_back("webhook", r.body);
  for (const auto& r : slack.requests()) sinks.emplace_back("slack", r.body);
  for (const auto& r : alertmanager.requests()) sinks.emplace_back("alertmanager", r.body);
  // Secrets of our own configuration that only their own service may see.
  std::vector<std::pair<std::string, std::string>> own_secrets = {
      {test::FakePagerDuty::kKey, "pagerduty"}, {kTeamsSig, "teams"}};
  for (const auto& r : pagerduty.requests()) sinks.emplace_back("pagerduty", r.body);
  for (const auto& r : teams.requests()) sinks.emplace_back("teams", r.body);
  for (const auto& r : ollama.requests()) sinks.emplace_back("llm prompt " + r.target, r.body);
  sinks.emplace_back("/diagnose", diag.body);
  sinks.emplace_back("/api/incidents", incidents.body);
  sinks.emplace_back("MCP diagnose", mcp_diagnose);
  sinks.emplace_back("MCP get_incident", mcp_incident);
  sinks.emplace_back("podmedic log", podmedic.output());
  for (auto& e : fs::recursive_directory_iterator(dir / "state"))
    if (e.is_regular_file()) sinks.emplace_back(e.path().filename().string(), read_all(e.path()));
  REQUIRE(webhook.count() >= 1);
  REQUIRE(slack.count() >= 1);
  REQUIRE(alertmanager.count() >= 1);
  // The rollout's changes did reach the webhook (redacted): the sink was exercised.
  const auto hooks = webhook.requests();
  CHECK(std::any_of(hooks.begin(), hooks.end(), [](const test::MockRequest& r) {
    return r.body.find("\"field\":\"args\"") != std::string::npos;
  }));
  REQUIRE(ollama.count() >= 2);
  {
    std::lock_guard l(fake_pd.mu);
    CHECK(fake_pd.invalid == 0);
    CHECK(fake_pd.alerts.size() >= 1);
  }
  {
    std::lock_guard l(fake_teams.mu);
    CHECK(fake_teams.rejected.empty());
    CHECK(fake_teams.cards.size() >= 1);
  }

  std::size_t leaks = 0;
  for (const auto& secret : secrets) {
    for (const auto& [sink, text] : sinks) {
      // JSON escapes some characters; look for the raw value and its JSON-escaped form.
      std::string escaped = json(secret).dump();
      escaped = escaped.substr(1, escaped.size() - 2);
      if (text.find(secret) != std::string::npos || text.find(escaped) != std::string::npos) {
        ++leaks;
        UNSCOPED_INFO("secret \"" << secret << "\" leaks into " << sink);
      }
    }
  }
  CHECK(leaks == 0);
  for (const auto& [secret, owner] : own_secrets) {
    for (const auto& [sink, text] : sinks) {
      if (sink != owner && text.find(secret) != std::string::npos) {
        ++leaks;
        UNSCOPED_INFO("the " << owner << " secret leaks into " << sink);
      }
    }
  }
  CHECK(leaks == 0);
  // The evidence still carries the useful lines around the secrets.
  CHECK(diag.body.find("fatal: giving up") != std::string::npos);
  CHECK(mcp_diagnose.find("fatal: giving up") != std::string::npos);
  CHECK(mcp_incident.find("\"evidence\"") != std::string::npos);
}
