// One JSON shape for an incident: the webhook payload (PRODUCT.md's contract) and the
// /api/incidents entry agree on every field they share, and each adds only its own.
#include <catch2/catch.hpp>

#include "core/parse.h"
#include "incidents/incident.h"
#include "notifiers/tests/support.h"
#include "notifiers/webhook.h"

using namespace podmedic;
using json = nlohmann::json;

namespace {

incidents::Incident rich() {
  auto inc = test::incident("cart");
  inc.all_pods = {"cart-7d9f-abcde", "cart-7d9f-fghij"};
  inc.pods["cart-7d9f-fghij"] = {4, 0};
  inc.restarts = 4;
  inc.exit_code = 137;
  inc.last_seen = inc.first_seen + 300;
  inc.message = Redacted::from_state("back-off 2m40s restarting failed container=app");
  inc.evidence = Redacted::from_state("java.lang.OutOfMemoryError: Java heap space");
  inc.flaps = 1;
  inc.last_notified = inc.first_seen;
  return inc;
}

json parsed(const std::string& text) {
  auto j = parse::json_text(text, "body");
  REQUIRE(j.ok());
  return std::move(j).value();
}

// The webhook body as a receiver gets it, and the /api/incidents entry as the page gets it.
std::pair<json, json> both(const incidents::Incident& inc, const std::string& type,
                           const std::string& facts) {
  return {parsed(parse::dump(notifiers::webhook_body(type, inc, facts))),
          parsed(parse::dump(incidents::api_json(inc, facts)))};
}

const std::vector<std::string> kIncidentFields = {
    "id",   "fingerprint", "namespace", "reason",    "workload", "container",
    "pods", "restarts",    "exitCode",  "firstSeen", "lastSeen", "message"};

}  // namespace

TEST_CASE("incident JSON: webhook payload and /api/incidents entry agree on the shared fields") {
  const std::string facts = "[shop] OOMKilled Deployment/cart container app: 2 pods";
  for (bool resolved : {false, true}) {
    for (bool llm : {false, true}) {
      auto inc = rich();
      if (resolved) {
        inc.state = incidents::Incident::State::kResolved;
        inc.resolved_at = inc.first_seen + 600;
      }
      if (llm) {
        inc.diagnosis = Redacted::from_state("the JVM heap is larger than the memory limit");
        inc.diagnosis_model = "mistral";
      }
      auto [hook, api] = both(inc, resolved ? "incident.resolved" : "incident.opened", facts);
      INFO("resolved " << resolved << ", llm " << llm);
      const json* incident = parse::get_object(hook, "incident");
      REQUIRE(incident);
      // The payload's incident object is exactly PRODUCT.md's list of fields...
      std::vector<std::string> keys;
      for (const auto& [k, v] : incident->items()) keys.push_back(k);
      std::vector<std::string> want = kIncidentFields;
      std::sort(want.begin(), want.end());
      CHECK(keys == want);
      // ...and each has the same value in the /api/incidents entry.
      for (const auto& k : kIncidentFields) {
        INFO(k);
        REQUIRE(parse::member(api, k));
        CHECK(*parse::member(api, k) == *parse::member(*incident, k));
      }
      CHECK(parse::member(api, "cluster") != nullptr);
      CHECK(*parse::member(api, "cluster") == *parse::member(hook, "cluster"));
      CHECK(parse::string_or(api, "facts") == facts);
      CHECK(parse::string_or(hook, "facts") == facts);
      // The LLM's diagnosis is one object in both; without one, only the webhook carries the
      // rules-based diagnosis its contract promises.
      const json* hook_diag = parse::get_object(hook, "diagnosis");
      REQUIRE(hook_diag);
      if (llm) {
        REQUIRE(parse::get_object(api, "diagnosis"));
        CHECK(*parse::get_object(api, "diagnosis") == *hook_diag);
        CHECK(parse::string_or(*hook_diag, "source") == "llm");
      } else {
        CHECK(parse::member(api, "diagnosis") == nullptr);
        CHECK(parse::string_or(*hook_diag, "source") == "rules");
        CHECK(parse::string_or(*hook_diag, "text") ==
              facts + "\n\nKey evidence:\n" + inc.evidence.str());
      }
      CHECK(parse::string_or(api, "state") == (resolved ? "resolved" : "open"));
      CHECK((parse::member(api, "resolvedAt") != nullptr) == resolved);
    }
  }
}

TEST_CASE("incident JSON: the webhook adds only its envelope, the API entry only its own fields") {
  auto inc = rich();
  inc.pending_alert = true;
  inc.severity = "warning";
  inc.runbook_url = "https://rb.example/crash";
  auto [hook, api] = both(inc, "incident.opened", "f");
  std::vector<std::string> hook_keys, api_keys;
  for (const auto& [k, v] : hook.items()) hook_keys.push_back(k);
  for (const auto& [k, v] : api.items()) api_keys.push_back(k);
  CHECK(hook_keys == std::vector<std::string>{"changes", "cluster", "diagnosis", "facts",
                                              "incident", "runbookUrl", "severity", "type"});
  // The state file's fields (to_json) plus the facts line.
  CHECK(api_keys == std::vector<std::string>{"activePods", "changes",  "cluster",   "container",
                                             "evidence",   "exitCode", "facts",     "fingerprint",
                                             "firstSeen",  "flaps",    "id",        "lastNotified",
                                             "lastSeen",   "message",  "namespace", "pendingAlert",
                                             "podState",   "pods",     "reason",    "restarts",
                                             "runbookUrl", "severity", "state",     "workload"});
  auto state = incidents::to_json(inc);
  state["facts"] = "f";
  CHECK(parsed(parse::dump(state)) == api);
  CHECK(*parse::member(api, "activePods") == json{"cart-7d9f-fghij"});
}
