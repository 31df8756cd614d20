#include <catch2/catch.hpp>

#include "core/http.h"
#include "notifiers/slack.h"
#include "notifiers/webhook.h"

using namespace podmedic;
using namespace podmedic::notifiers;
using json = nlohmann::json;

namespace {
incidents::Incident incident() {
  incidents::Incident i;
  i.id = "1a2b3c4d5e6f7a8b";
  i.fingerprint = "prod-eu-1/shop/Deployment/cart/app/OOMKilled";
  i.cluster = "prod-eu-1";
  i.ns = "shop";
  i.reason = "OOMKilled";
  i.workload = {"Deployment", "cart"};
  i.container = "app";
  i.all_pods = {"cart-7d9f-abcde", "cart-7d9f-fghij"};
  i.restarts = 4;
  i.exit_code = 137;
  i.severity = "critical";
  i.first_seen = 1790000000;
  i.last_seen = 1790000300;
  i.message =
      Redacted::from_state("back-off 2m40s restarting failed container=app <!channel> & friends");
  return i;
}
}  // namespace

TEST_CASE("webhook body has the PRODUCT.md shape") {
  auto inc = incident();
  WebhookNotifier n({"pager", "http://127.0.0.1:1/hook", "", {}});
  auto payloads =
      n.render({incidents::EventType::kOpened, {&inc}, [](auto&) { return "facts here"; }});
  REQUIRE(payloads.size() == 1);
  CHECK(payloads[0].event == "incident.opened");
  auto j = json::parse(payloads[0].body);
  CHECK(j["type"] == "incident.opened");
  CHECK(j["cluster"] == "prod-eu-1");
  auto& i = j["incident"];
  CHECK(i["id"] == inc.id);
  CHECK(i["fingerprint"] == inc.fingerprint);
  CHECK(i["namespace"] == "shop");
  CHECK(i["reason"] == "OOMKilled");
  CHECK(i["workload"] == json{{"kind", "Deployment"}, {"name", "cart"}});
  CHECK(i["container"] == "app");
  CHECK(i["pods"] == json{"cart-7d9f-abcde", "cart-7d9f-fghij"});
  CHECK(i["restarts"] == 4);
  CHECK(i["exitCode"] == 137);
  CHECK(i["firstSeen"] == "2026-09-21T14:13:20Z");
  CHECK(i["lastSeen"] == "2026-09-21T14:18:20Z");
  CHECK(i["message"] == inc.message);
  CHECK(j["facts"] == "facts here");
  CHECK(j["diagnosis"]["source"] == "rules");
  CHECK(j["severity"] == "critical");
  CHECK(j["changes"] == json::array());
  CHECK_FALSE(j.contains("runbookUrl"));  // only when configured
  inc.runbook_url = "https://rb.example/oom?ns=shop";
  inc.changes = {
      {"image", "app", Redacted::from_state("cart:1.0"), Redacted::from_state("cart:1.1")}};
  auto with = json::parse(
      n.render({incidents::EventType::kOpened, {&inc}, [](auto&) { return "f"; }})[0].body);
  CHECK(with["runbookUrl"] == "https://rb.example/oom?ns=shop");
  CHECK(
      with["changes"] ==
      json::array(
          {{{"field", "image"}, {"container", "app"}, {"from", "cart:1.0"}, {"to", "cart:1.1"}}}));
  auto resolved = n.render({incidents::EventType::kResolved, {&inc}, nullptr});
  CHECK(json::parse(resolved[0].body)["type"] == "incident.resolved");
  CHECK(n.render({incidents::EventType::kReminder, {&inc}, nullptr}).empty());
}

TEST_CASE("routing by namespace and reason") {
  auto inc = incident();
  WebhookNotifier shop_only({"a", "http://x", "", {{"shop"}, {}}});
  WebhookNotifier other_ns({"b", "http://x", "", {{"payments"}, {}}});
  WebhookNotifier crash_only({"c", "http://x", "", {{}, {"CrashLoopBackOff"}}});
  incidents::IncidentEvent e{incidents::EventType::kOpened, {&inc}};
  CHECK(shop_only.render({e.type, e.incidents, nullptr}).size() == 1);
  CHECK(other_ns.render({e.type, e.incidents, nullptr}).empty());
  CHECK(crash_only.render({e.type, e.incidents, nullptr}).empty());
}

TEST_CASE("HMAC-SHA256 matches the RFC test vector") {
  CHECK(hmac_sha256_hex("key", "The quick brown fox jumps over the lazy dog") ==
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST_CASE("Slack escaping defuses mentions and escapes ampersands first") {
  CHECK(slack_escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;");
  CHECK(slack_escape("&lt;") == "&amp;lt;");
}

TEST_CASE("Slack alert: text fallback and blocks within limits with cluster text escaped") {
  auto inc = incident();
  inc.message = Redacted::from_state(std::string(10000, 'x') + " <!channel>");
  inc.workload.name = std::string(200, 'w');
  SlackNotifier n({"ops", "http://127.0.0.1:1/hook", {}});
  auto payloads =
      n.render({incidents::EventType::kOpened, {&inc}, [](auto&) { return "OOM <!here>"; }});
  REQUIRE(payloads.size() == 1);
  CHECK(payloads[0].body.find("<!channel>") == std::string::npos);
  CHECK(payloads[0].body.find("<!here>") == std::string::npos);
  auto j = json::parse(payloads[0].body);
  REQUIRE(j.contains("text"));
  CHECK(j["text"].get<std::string>().size() <= 4000);
  REQUIRE(j["blocks"].is_array());
  CHECK(j["blocks"].size() <= 50);
  CHECK(j["blocks"][0]["type"] == "header");
  CHECK(j["blocks"][0]["text"]["text"].get<std::string>().size() <= 150);
  bool has_commands = false;
  for (auto& b : j["blocks"]) {
    if (b["type"] == "section" && b.contains("text")) {
      auto t = b["text"]["text"].get<std::string>();
      CHECK(t.size() <= 3000);
      has_commands =
          has_commands ||
          t.find("kubectl -n shop logs cart-7d9f-abcde -c app --previous") != std::string::npos;
    }
    if (b.contains("fields")) CHECK(b["fields"].size() <= 10);
  }
  CHECK(has_commands);
}

TEST_CASE("Slack digest and resolved messages") {
  std::vector<incidents::Incident> incs(30, incident());
  std::vector<const incidents::Incident*> ptrs;
  for (auto& i : incs) ptrs.push_back(&i);
  SlackNotifier n({"ops", "http://x", {}});
  auto digest = n.render({incidents::EventType::kDigest, ptrs, nullptr});
  REQUIRE(digest.size() == 1);
  auto j = json::parse(digest[0].body);
  CHECK(j["text"].get<std::string>().find("30 workloads started failing") == 0);
  auto inc = incident();
  inc.resolved_at = inc.first_seen + 600;
  auto res = n.render({incidents::EventType::kResolved, {&inc}, nullptr});
  CHECK(json::parse(res[0].body)["text"].get<std::string>().find("Resolved:") == 0);
}

TEST_CASE("Retry-After as seconds or an HTTP date") {
  CHECK(http::parse_retry_after("7", 1000) == 7);
  CHECK(http::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111767) == 10);
  CHECK(http::parse_retry_after("soon", 0) == -1);
  CHECK(http::parse_retry_after("", 0) == -1);
}

TEST_CASE("an LLM diagnosis rides on the alert or follows as incident.diagnosed") {
  auto inc = incident();
  inc.diagnosis = Redacted::from_state(
      "The JVM heap (-Xmx512m) is larger than the 256Mi limit. <!channel> & co\n" +
      std::string(7000, 'x'));
  inc.diagnosis_model = "mistral";
  WebhookNotifier w({"pager", "http://127.0.0.1:1/hook", "", {}});
  auto opened = w.render({incidents::EventType::kOpened, {&inc}, [](auto&) { return "facts"; }});
  auto j = json::parse(opened[0].body);
  CHECK(j["diagnosis"]["source"] == "llm");
  CHECK(j["diagnosis"]["model"] == "mistral");
  CHECK(j["diagnosis"]["text"] == inc.diagnosis);
  CHECK(j["facts"] == "facts");  // always present
  auto diagnosed = w.render({incidents::EventType::kDiagnosed, {&inc}, [](auto&) { return "f"; }});
  REQUIRE(diagnosed.size() == 1);
  CHECK(diagnosed[0].event == "incident.diagnosed");
  CHECK(json::parse(diagnosed[0].body)["type"] == "incident.diagnosed");

  SlackNotifier s({"ops", "http://127.0.0.1:1/slack", {}});
  for (auto type : {incidents::EventType::kOpened, incidents::EventType::kDiagnosed}) {
    auto p = s.render({type, {&inc}, [](auto&) { return "facts"; }});
    REQUIRE(p.size() == 1);
    CHECK(p[0].thread == inc.id);
    CHECK(p[0].root == (type == incidents::EventType::kOpened));
    auto body = json::parse(p[0].body);
    CHECK(body["blocks"].size() <= 50);
    bool cause = false;
    for (const auto& b : body["blocks"]) {
      if (b.contains("text") && b["text"].contains("text")) {
        auto t = b["text"]["text"].get<std::string>();
        CHECK(t.size() <= 3000);
        CHECK(t.find("<!channel>") == std::string::npos);
        if (t.find("*Likely cause (mistral)*") == 0) {
          cause = true;
          CHECK(t.find("&lt;!channel&gt; &amp; co") != std::string::npos);
        }
      }
    }
    CHECK(cause);
  }
}
