// The Alertmanager notifier against a strict loopback fake of /api/v2/alerts (it answers 400 to
// what Alertmanager rejects): the labels and annotations of PRODUCT.md, endsAt stamped at send
// time, the periodic re-post, only the latest state per incident through an outage and a
// restart, several replicas, auth headers, and the label-name rule.
#include <catch2/catch.hpp>

#include <atomic>
#include <regex>

#include "core/units.h"
#include "notifiers/alertmanager.h"
#include "notifiers/dispatcher.h"
#include "notifiers/slack.h"
#include "notifiers/tests/support.h"
#include "notifiers/webhook.h"
#include "tests/fake_clock.h"
#include "tests/http_mock.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::notifiers;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;
using test::HttpMock;
using test::MockRequest;
using test::MockResponse;

namespace {

// What Alertmanager's API v2 accepts (postableAlerts): an array of objects with a non-empty
// labels map of valid names to strings, string annotations, RFC3339 times. 400 otherwise.
MockResponse strict_alertmanager(const MockRequest& r) {
  auto bad = [](const std::string& why) {
    return MockResponse{400, "{\"error\":\"" + why + "\"}"};
  };
  if (r.target != "/api/v2/alerts") return MockResponse{404, "not found"};
  if (r.headers.count("content-type") == 0 ||
      r.headers.at("content-type").rfind("application/json", 0) != 0)
    return MockResponse{415, "media type"};
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_array() || body.empty()) return bad("not an array");
  static const std::regex name("[a-zA-Z_][a-zA-Z0-9_]*");
  for (const auto& a : body) {
    if (!a.is_object() || !a.contains("labels") || !a["labels"].is_object() || a["labels"].empty())
      return bad("labels");
    for (const auto& [k, v] : a["labels"].items()) {
      if (!std::regex_match(k, name) || !v.is_string()) return bad("label " + k);
    }
    if (a.contains("annotations")) {
      for (const auto& [k, v] : a["annotations"].items())
        if (!v.is_string()) return bad("annotation " + k);
    }
    for (const char* t : {"startsAt", "endsAt"}) {
      if (a.contains(t) && (!a[t].is_string() || parse_rfc3339(a[t].get<std::string>()) <= 0))
        return bad(t);
    }
  }
  return MockResponse{200, ""};
}

json alert_of(const MockRequest& r) {
  return json::parse(r.body)[0];
}

AlertmanagerSettings settings(std::vector<std::string> urls) {
  AlertmanagerSettings s;
  s.name = "am";
  s.urls = std::move(urls);
  s.resend_interval = 60s;
  return s;
}

std::string base(const HttpMock& m) {
  return m.url("");
}

}  // namespace

TEST_CASE("alertmanager: labels, annotations and times of PRODUCT.md") {
  auto inc = test::incident();
  inc.severity = "critical";
  inc.runbook_url = "https://runbooks.example/oom?ns=shop";
  inc.diagnosis = Redacted::from_state("The container exceeds its 256Mi limit.");
  inc.restarts = 4;
  inc.pods["cart-abc"] = {};
  auto s = settings({"http://am"});
  s.labels = {{"team", "platform"}};
  s.external_url = "https://podmedic.example";
  json a = alertmanager_alert(inc, "facts line", s);
  CHECK(a["labels"] == json{{"alertname", "PodOOMKilled"},
                            {"severity", "critical"},
                            {"cluster", "c"},
                            {"namespace", "shop"},
                            {"workload_kind", "Deployment"},
                            {"workload", "cart"},
                            {"container", "app"},
                            {"reason", "OOMKilled"},
                            {"podmedic_incident", "id-cart"},
                            {"team", "platform"}});
  CHECK(a["annotations"]["description"] == "facts line");
  CHECK(a["annotations"]["diagnosis"] == "The container exceeds its 256Mi limit.");
  CHECK(a["annotations"]["runbook_url"] == "https://runbooks.example/oom?ns=shop");
  CHECK(a["annotations"]["summary"].get<std::string>().find("shop/cart") != std::string::npos);
  CHECK(a["startsAt"] == format_rfc3339(inc.first_seen));
  CHECK_FALSE(a.contains("endsAt"));  // stamped at send time
  CHECK(a["generatorURL"] == "https://podmedic.example/#id-cart");

  inc.diagnosis = Redacted();
  inc.runbook_url.clear();
  inc.state = incidents::Incident::State::kResolved;
  inc.resolved_at = inc.first_seen + 600;
  s.external_url.clear();
  a = alertmanager_alert(inc, "facts", s);
  CHECK(a["endsAt"] == format_rfc3339(inc.resolved_at));
  CHECK_FALSE(a["annotations"].contains("diagnosis"));
  CHECK_FALSE(a["annotations"].contains("runbook_url"));
  CHECK_FALSE(a.contains("generatorURL"));

  CHECK(alertname("CrashLoopBackOff") == "PodCrashLooping");
  CHECK(alertname("ImagePullBackOff") == "PodImagePullBackOff");
  CHECK(alertname("CreateContainerConfigError") == "PodCreateContainerConfigError");
}

TEST_CASE("alertmanager: static label names follow Prometheus' rule and cannot override ours") {
  CHECK(check_label_name("team").empty());
  CHECK(check_label_name("_x9").empty());
  CHECK_FALSE(check_label_name("").empty());
  CHECK_FALSE(check_label_name("9team").empty());
  CHECK_FALSE(check_label_name("team-name").empty());
  CHECK_FALSE(check_label_name("t\xc3\xa9").empty());
  CHECK_FALSE(check_label_name("__name__").empty());
  for (const auto& own : alertmanager_own_labels()) CHECK_FALSE(check_label_name(own).empty());
}

TEST_CASE(
    "alertmanager: firing carries endsAt = now + 4 x resendInterval; re-posted every "
    "resendInterval; resolved once with the resolve time") {
  test::DispatcherEnv env("am", 100ms);
  test::FakeClock clock;
  HttpMock am(strict_alertmanager);
  auto s = settings({base(am)});
  s.bearer_token = "t0ken";
  Dispatcher d(
      env.settings(), test::one(std::make_unique<AlertmanagerNotifier>(s, clock)),
      [](auto&) { return "facts"; }, &env.registry, clock);
  REQUIRE(d.start().ok());
  auto inc = test::incident();
  inc.last_notified = clock.unix_seconds();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return am.count() == 1 && d.pending() == 0; }));
  auto first = am.requests()[0];
  CHECK(first.headers["authorization"] == "Bearer t0ken");
  CHECK(alert_of(first)["endsAt"] == format_rfc3339(clock.unix_seconds() + 240));
  CHECK(alert_of(first)["labels"]["podmedic_incident"] == "id-cart");

  // The first resend call re-posts at once (a restart may have let Alertmanager forget); then
  // only once per interval; never an incident still held for its diagnosis.
  auto held = test::incident("held");
  held.pending_alert = true;
  d.resend({&inc, &held});
  REQUIRE(eventually([&] { return am.count() == 2 && d.pending() == 0; }));
  clock.advance(30s);
  d.resend({&inc, &held});
  clock.advance(29s);
  d.resend({&inc, &held});
  CHECK(d.pending() == 0);
  clock.advance(1s);
  d.resend({&inc, &held});
  REQUIRE(eventually([&] { return am.count() == 3 && d.pending() == 0; }));
  CHECK(alert_of(am.requests()[2])["endsAt"] == format_rfc3339(clock.unix_seconds() + 240));

  inc.state = incidents::Incident::State::kResolved;
  inc.resolved_at = clock.unix_seconds() - 5;
  d.on_incident_event({incidents::EventType::kResolved, {&inc}});
  REQUIRE(eventually([&] { return am.count() == 4 && d.pending() == 0; }));
  CHECK(alert_of(am.requests()[3])["endsAt"] == format_rfc3339(inc.resolved_at));
  clock.advance(120s);
  d.resend({&inc});  // resolved: never re-posted
  CHECK(d.pending() == 0);
  CHECK(am.count() == 4);
  // Reopened quietly within the flap hold-down: it stays resolved for Alertmanager, as for
  // every other channel, until a reminder says it is broken again.
  inc.state = incidents::Incident::State::kOpen;
  inc.resolved_at = 0;
  inc.quiet = true;
  clock.advance(120s);
  d.resend({&inc});
  CHECK(d.pending() == 0);
  CHECK(am.count() == 4);
  inc.state = incidents::Incident::State::kResolved;
  inc.quiet = false;
  for (const auto& r : am.requests()) CHECK(r.body.find("podmedic_incident") != std::string::npos);
}

TEST_CASE(
    "alertmanager: an outage keeps only the latest state per incident, also across a "
    "restart; a stale firing never follows the resolution") {
  test::DispatcherEnv env("am-outage", 50ms);
  test::FakeClock clock;
  std::atomic<bool> down{true};
  HttpMock am([&](const MockRequest& r) {
    return down ? MockResponse{503, "unavailable"} : strict_alertmanager(r);
  });
  auto a = test::incident("a"), b = test::incident("b");
  a.last_notified = b.last_notified = clock.unix_seconds();
  {
    Dispatcher d(
        env.settings(),
        test::one(std::make_unique<AlertmanagerNotifier>(settings({base(am)}), clock)),
        [](auto&) { return "facts"; }, &env.registry);
    REQUIRE(d.start().ok());
    d.on_incident_event({incidents::EventType::kOpened, {&a}});
    d.on_incident_event({incidents::EventType::kOpened, {&b}});
    for (int i = 0; i < 20; ++i) d.on_incident_event({incidents::EventType::kReminder, {&a, &b}});
    a.diagnosis = Redacted::from_state("diagnosed later");
    d.on_incident_event({incidents::EventType::kDiagnosed, {&a}});
    b.state = incidents::Incident::State::kResolved;
    b.resolved_at = clock.unix_seconds();
    d.on_incident_event({incidents::EventType::kResolved, {&b}});
    CHECK(d.pending() <= 2);  // one per incident, whatever was posted meanwhile
    REQUIRE(eventually([&] { return am.count() >= 3; }));  // retrying while down
    d.stop();
  }
  CHECK(env.counter("am", "superseded") >= 20);
  const auto tried = am.count();
  down = false;
  clock.advance(600s);  // a long outage: endsAt is stamped when it is finally delivered
  Dispatcher d(
      env.settings(),
      test::one(std::make_unique<AlertmanagerNotifier>(settings({base(am)}), clock)),
      [](auto&) { return "facts"; }, &env.registry);
  REQUIRE(d.start().ok());
  REQUIRE(eventually([&] { return d.pending() == 0 && am.count() == tried + 2; }));
  std::map<std::string, json> got;
  for (std::size_t i = tried; i < am.count(); ++i) {
    json alert = alert_of(am.requests()[i]);
    got[alert["labels"]["workload"].get<std::string>()] = alert;
  }
  REQUIRE(got.size() == 2);
  CHECK(got["a"]["annotations"]["diagnosis"] == "diagnosed later");
  CHECK(got["a"]["endsAt"] == format_rfc3339(clock.unix_seconds() + 240));
  CHECK(got["b"]["endsAt"] == format_rfc3339(b.resolved_at));  // resolved, never firing again
}

TEST_CASE(
    "alertmanager: every replica gets the post; one accepting is delivered; none: retried "
    "or permanent") {
  test::DispatcherEnv env("am-replicas", 50ms);
  std::atomic<int> second_status{503};
  HttpMock first(strict_alertmanager);
  HttpMock second([&](const MockRequest& r) {
    return second_status == 200 ? strict_alertmanager(r) : MockResponse{second_status.load(), "no"};
  });
  auto s = settings({base(first) + "/", base(second)});  // a trailing slash is fine
  s.bearer_token.clear();
  s.basic_username = "u";
  s.basic_password = "p";
  Dispatcher d(
      env.settings(), test::one(std::make_unique<AlertmanagerNotifier>(s)),
      [](auto&) { return "facts"; }, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = test::incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(
      eventually([&] { return d.pending() == 0 && first.count() == 1 && second.count() == 1; }));
  CHECK(first.requests()[0].headers["authorization"] == "Basic dTpw");
  CHECK(env.counter("am", "sent") == 1);

  // Neither accepts, 400 from both: Alertmanager rejected it; permanent.
  HttpMock rejects([](const MockRequest&) { return MockResponse{400, "bad alert"}; });
  Dispatcher r(env.settings(),
               test::one(std::make_unique<AlertmanagerNotifier>(settings({base(rejects)}))),
               nullptr, nullptr);
  REQUIRE(r.start().ok());
  r.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return r.pending() == 0 && rejects.count() == 1; }));
}

TEST_CASE("alertmanager: a corrupt outbox body is dropped, not sent or thrown") {
  test::FakeClock clock;
  AlertmanagerNotifier n(settings({"http://127.0.0.1:9"}), clock);
  for (std::string body :
       std::vector<std::string>{"", "[", "null", "[1,2]", "\"x\"", "{\"a\":\"\xff\"}"}) {
    Payload p{AlertmanagerNotifier::kFiring, body, "id"};
    auto r = n.send(p, "d", nullptr);
    if (body.rfind("{", 0) == 0) continue;  // an object: posted (and refused by no one here)
    CHECK(r.outcome == Outcome::kPermanent);
  }
}

TEST_CASE(
    "alert.diagnosed goes to the Slack and webhook notifiers only, escaped, routed by "
    "namespace") {
  incidents::AlertDiagnosis a;
  a.cluster = "c";
  a.fingerprint = "a1b2";
  a.alertname = Redacted::from_state("KubePodCrashLooping");
  a.ns = "shop";
  a.pod = "cart-1";
  a.labels = {{"summary", Redacted::from_state("<!channel> look")}};
  a.facts = "facts <!here>";
  a.diagnosis = Redacted::from_state("<!channel> the volume is missing");
  a.model = "mistral";
  WebhookNotifier hook({"hook", "http://127.0.0.1:9/hook", "", {}});
  auto w = hook.render_alert(a);
  REQUIRE(w.size() == 1);
  CHECK(w[0].event == "alert.diagnosed");
  json body = json::parse(w[0].body);
  CHECK(body["type"] == "alert.diagnosed");
  CHECK(body["alert"]["labels"]["summary"] == "<!channel> look");
  CHECK(body["diagnosis"] == json{{"text", "<!channel> the volume is missing"},
                                  {"model", "mistral"},
                                  {"source", "llm"}});
  SlackNotifier slack({"ops", "http://127.0.0.1:9/slack", {}});
  auto s = slack.render_alert(a);
  REQUIRE(s.size() == 1);
  CHECK(s[0].body.find("<!channel>") == std::string::npos);
  CHECK(s[0].body.find("<!here>") == std::string::npos);
  CHECK(s[0].body.find("&lt;!channel&gt; the volume is missing") != std::string::npos);
  // Never to Alertmanager (a loop) nor to a notifier routed elsewhere.
  CHECK(AlertmanagerNotifier(settings({"http://am"})).render_alert(a).empty());
  WebhookNotifier web_only({"web", "http://127.0.0.1:9/hook", "", {{"web"}, {}}});
  CHECK(web_only.render_alert(a).empty());
}
