// podmedic and the real Alertmanager (prometheus-alertmanager, started here on loopback with
// gossip off and a 1 s group_wait, routing to a webhook receiver this test runs).
// Direction 1, the notifier: the alert appears in /api/v2/alerts with PRODUCT.md's labels, the
// receiver gets it (positive control), a silence made through Alertmanager's API keeps a second
// workload's alert from the receiver, a resolution ends the alert and the receiver gets
// "resolved", and after Alertmanager was down for a while it gets the current state, once, not a
// backlog of what was re-posted meanwhile.
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include "notifiers/alertmanager.h"
#include "notifiers/dispatcher.h"
#include "notifiers/tests/support.h"
#include "tests/http_mock.h"
#include "tests/real_alertmanager.h"
#include "tests/support.h"

using namespace podmedic;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;

namespace {

// Alertmanager's webhook posts: {"version": "4", "status", "alerts": [{"status", "labels"...}]}.
struct Receiver {
  test::HttpMock mock{[](const test::MockRequest&) { return test::MockResponse{200, ""}; }};
  // The statuses ("firing", "resolved") the receiver got for alerts whose label `name` = `value`.
  std::vector<std::string> got(const std::string& name, const std::string& value) const {
    std::vector<std::string> out;
    for (const auto& r : mock.requests()) {
      auto j = json::parse(r.body, nullptr, false);
      if (!j.is_object() || j["version"] != "4") continue;
      for (const auto& a : j["alerts"]) {
        if (a["labels"].contains(name) && a["labels"][name] == value) out.push_back(a["status"]);
      }
    }
    return out;
  }
  bool has(const std::string& workload, const std::string& status) const {
    auto g = got("workload", workload);
    return std::find(g.begin(), g.end(), status) != g.end();
  }
};

incidents::Incident opened(const std::string& workload, const Clock& clock) {
  auto i = test::incident(workload);
  i.reason = "CrashLoopBackOff";
  i.severity = "warning";
  i.first_seen = clock.unix_seconds() - 60;
  i.last_notified = clock.unix_seconds();
  return i;
}

void resolve(incidents::Incident& i, const Clock& clock) {
  i.state = incidents::Incident::State::kResolved;
  i.resolved_at = clock.unix_seconds();
}

}  // namespace

TEST_CASE(
    "real Alertmanager: labels, delivery, silences, resolution, and the current state "
    "after an outage") {
  Receiver receiver;
  test::RealAlertmanager am(receiver.mock.url("/alerts"));
  test::DispatcherEnv env("real-am", 200ms);
  notifiers::AlertmanagerSettings s;
  s.name = "am";
  s.urls = {am.url()};
  s.resend_interval = 1s;
  s.labels = {{"team", "platform"}};
  const Clock& clock = system_clock();
  notifiers::Dispatcher d(
      env.settings(), test::one(std::make_unique<notifiers::AlertmanagerNotifier>(s)),
      [](auto&) { return "facts line"; }, &env.registry);
  REQUIRE(d.start().ok());

  // 1. An opened incident: in /api/v2/alerts with our labels, and the receiver gets it.
  auto a = opened("alpha", clock);
  a.diagnosis = Redacted::from_state("The process cannot open /data.");
  d.on_incident_event({incidents::EventType::kOpened, {&a}});
  REQUIRE(eventually([&] { return !am.alert("workload", "alpha").is_null(); }, 10s));
  json got = am.alert("workload", "alpha");
  CHECK(got["labels"] == json{{"alertname", "PodCrashLooping"},
                              {"severity", "warning"},
                              {"cluster", "c"},
                              {"namespace", "shop"},
                              {"workload_kind", "Deployment"},
                              {"workload", "alpha"},
                              {"container", "app"},
                              {"reason", "CrashLoopBackOff"},
                              {"podmedic_incident", "id-alpha"},
                              {"team", "platform"}});
  CHECK(got["annotations"]["diagnosis"] == "The process cannot open /data.");
  CHECK(got["annotations"]["description"] == "facts line");
  CHECK(got["status"]["state"] == "active");
  REQUIRE(eventually([&] { return receiver.has("alpha", "firing"); }, 15s));

  // 2. A silence made through Alertmanager's API: bravo's alert is suppressed; charlie's, posted
  // after it in a group of its own with the same group_wait, reaches the receiver (so bravo's
  // group was flushed before: it had every chance to).
  am.silence("workload", "bravo");
  auto b = opened("bravo", clock);
  auto c = opened("charlie", clock);
  d.on_incident_event({incidents::EventType::kOpened, {&b}});
  d.on_incident_event({incidents::EventType::kOpened, {&c}});
  REQUIRE(eventually([&] { return receiver.has("charlie", "firing"); }, 15s));
  REQUIRE(eventually(
      [&] { return am.alert("workload", "bravo")["status"]["state"] == "suppressed"; }, 10s));
  CHECK(receiver.got("workload", "bravo").empty());

  // 3. Resolution: the alert ends and the receiver gets "resolved".
  resolve(a, clock);
  d.on_incident_event({incidents::EventType::kResolved, {&a}});
  REQUIRE(eventually([&] { return receiver.has("alpha", "resolved"); }, 15s));
  CHECK(eventually(
      [&] {
        auto alert = am.alert("workload", "alpha");
        return alert.is_null() || alert["status"]["state"] != "active";
      },
      10s));

  // 4. Alertmanager is down for a while (it keeps alerts in memory only): meanwhile charlie
  // resolves, delta opens, everything open is re-posted every second, and delta gets its
  // diagnosis. Back, it gets the current state once per incident, not the backlog.
  am.stop();
  auto delta = opened("delta", clock);
  d.on_incident_event({incidents::EventType::kOpened, {&delta}});
  for (int i = 0; i < 30; ++i) {
    d.resend({&b, &c, &delta});
    if (i == 10) {
      resolve(c, clock);
      d.on_incident_event({incidents::EventType::kResolved, {&c}});
    }
    std::this_thread::sleep_for(100ms);
  }
  delta.diagnosis = Redacted::from_state("Image tag does not exist.");
  d.on_incident_event({incidents::EventType::kDiagnosed, {&delta}});
  CHECK(d.pending() <= 3);  // bravo, charlie, delta: one each
  am.start();
  REQUIRE(eventually([&] { return d.pending() == 0; }, 15s));
  auto delta_alert = am.alert("workload", "delta");
  REQUIRE_FALSE(delta_alert.is_null());
  CHECK(delta_alert["annotations"]["diagnosis"] == "Image tag does not exist.");
  CHECK(am.alert("workload", "bravo")["status"]["state"] == "suppressed");
  auto charlie = am.alert("workload", "charlie");
  CHECK((charlie.is_null() || charlie["status"]["state"] != "active"));
  // Exactly what was current: two firing (bravo, delta), one resolved (charlie).
  CHECK(am.metric(R"(alertmanager_alerts_received_total{status="firing",version="v2"})") == 2);
  CHECK(am.metric(R"(alertmanager_alerts_received_total{status="resolved",version="v2"})") == 1);
  CHECK(env.counter("am", "superseded") >= 5);
  d.stop();
}
