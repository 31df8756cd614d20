// AlertIntake with fakes: once per fingerprint + startsAt, attached to an open incident without a
// diagnoser request, one request per pod however many alerts name it, a burst bounded and the
// drops counted, and the recent results listed for /api/incidents.
#include <catch2/catch.hpp>

#include "alerting/alert_intake.h"
#include "tests/fake_clock.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::alerting;

namespace {

struct Env {
  test::FakeClock clock;
  prometheus::Registry registry;
  std::vector<std::string> submitted;
  std::vector<incidents::AlertDiagnosis> delivered;
  std::vector<incidents::Incident> open;
  bool accept = true;
  AlertIntake intake{"prod", io(), clock, &registry};
  AlertIntakeIo io() {
    return {[this](const std::string& ns, const std::string& pod) -> const incidents::Incident* {
              for (const auto& i : open) {
                if (i.ns == ns && i.pods.count(pod)) return &i;
              }
              return nullptr;
            },
            [this](const std::string& key, const std::string&, const std::string&) {
              submitted.push_back(key);
              return accept;
            },
            [this](const incidents::AlertDiagnosis& d) { delivered.push_back(d); },
            [](const incidents::Incident& i) { return "facts of " + i.id; },
            [](std::string_view t) { return Redacted::from_state("sealed:" + std::string(t)); }};
  }
  double counted(const std::string& outcome) {
    return test::counter_value(registry, "podmedic_alertmanager_alerts_total",
                               {{"outcome", outcome}});
  }
};

IncomingAlert alert(const std::string& fp, const std::string& pod,
                    const std::string& starts = "2026-12-02T08:00:00Z") {
  return {fp,     starts, 1'790'000'000,
          "shop", pod,    {{"alertname", "KubePodCrashLooping"}, {"pod", pod}, {"token", "x"}}};
}

}  // namespace

TEST_CASE(
    "alert intake: attached to an open incident without an LLM call; once per "
    "fingerprint and startsAt") {
  Env env;
  incidents::Incident inc;
  inc.id = "inc-1";
  inc.ns = "shop";
  inc.pods["cart-1"] = {};
  inc.diagnosis = Redacted::from_state("OOM: raise the limit");
  inc.diagnosis_model = "mistral";
  env.open.push_back(inc);
  env.intake.take({alert("f1", "cart-1"), alert("f1", "cart-1")});
  CHECK(env.submitted.empty());
  REQUIRE(env.delivered.size() == 1);
  const auto& d = env.delivered[0];
  CHECK(d.incident_id == "inc-1");
  CHECK(d.facts == "facts of inc-1");
  CHECK(d.diagnosis == "OOM: raise the limit");
  CHECK(d.alertname == "sealed:KubePodCrashLooping");
  CHECK(d.labels.size() == 3);  // every value sealed
  for (const auto& [k, v] : d.labels) CHECK(v.str().rfind("sealed:", 0) == 0);
  CHECK(env.counted("attached") == 1);
  CHECK(env.counted("duplicate") == 1);
  // A new firing of the same alert (a new startsAt) is a new one.
  env.intake.take({alert("f1", "cart-1", "2026-12-02T09:00:00Z")});
  CHECK(env.delivered.size() == 2);
  nlohmann::json list = nlohmann::json::array();
  env.intake.list(list);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["source"] == "alertmanager");
  CHECK(list[0]["incidentId"] == "inc-1");
}

TEST_CASE("alert intake: one diagnoser request per pod; evidence and answer reach every alert") {
  Env env;
  env.intake.take({alert("f1", "api-1"), alert("f2", "api-1"), alert("f3", "api-2")});
  CHECK(env.submitted ==
        std::vector<std::string>{"alertmanager/shop/api-1", "alertmanager/shop/api-2"});
  CHECK(AlertIntake::ours(env.submitted[0]));
  CHECK_FALSE(AlertIntake::ours("c/shop/Deployment/api/app/OOMKilled"));
  CHECK(env.intake.pending() == 3);
  env.intake.evidence_ready("alertmanager/shop/api-1", Redacted::from_state("fatal: no /data"));
  env.intake.diagnosis_ready("alertmanager/shop/api-1", true,
                             Redacted::from_state("The volume is not mounted."), "mistral", false);
  REQUIRE(env.delivered.size() == 2);
  for (const auto& d : env.delivered) {
    CHECK(d.diagnosis == "The volume is not mounted.");
    CHECK(d.facts.find("fatal: no /data") != std::string::npos);
    CHECK(d.incident_id.empty());
  }
  auto body = incidents::alert_diagnosed_json(env.delivered[0]);
  CHECK(body["type"] == "alert.diagnosed");
  CHECK(body["alert"]["pod"] == "api-1");
  CHECK(body["diagnosis"]["source"] == "llm");
  // The LLM failed: rules only.
  env.intake.diagnosis_ready("alertmanager/shop/api-2", false, Redacted(), "", false);
  REQUIRE(env.delivered.size() == 3);
  CHECK(incidents::alert_diagnosed_json(env.delivered[2])["diagnosis"]["source"] == "rules");
  CHECK(env.counted("diagnosed") == 3);
  CHECK(env.intake.pending() == 0);
}

TEST_CASE("alert intake: a burst is bounded; what the queue drops is counted, never delivered") {
  Env env;
  std::vector<IncomingAlert> burst;
  for (std::size_t i = 0; i < AlertIntake::kMaxPending + 200; ++i)
    burst.push_back(alert("f" + std::to_string(i), "pod-" + std::to_string(i)));
  env.intake.take(std::move(burst));
  CHECK(env.intake.pending() == AlertIntake::kMaxPending);
  CHECK(env.submitted.size() == AlertIntake::kMaxPending);
  CHECK(env.counted("dropped") == 200);
  env.intake.diagnosis_ready("alertmanager/shop/pod-0", false, Redacted(), "", true);
  CHECK(env.counted("dropped") == 201);
  CHECK(env.delivered.empty());
  env.accept = false;  // the diagnoser's queue refuses at once
  env.intake.diagnosis_ready("alertmanager/shop/pod-1", false, Redacted(), "", false);
  env.intake.take({alert("late", "pod-late")});
  CHECK(env.counted("dropped") == 202);
}
