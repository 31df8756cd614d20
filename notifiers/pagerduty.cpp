// PagerDuty Events API v2: rendering (pure; pipeline thread) and delivery (worker thread).
#include "notifiers/pagerduty.h"

#include <algorithm>

#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"

namespace podmedic::notifiers {

using json = nlohmann::json;

namespace {

// Long cluster texts in custom_details: far below PagerDuty's 512 KiB per event, whatever the
// incident holds.
constexpr std::size_t kMaxDetailText = 16 * 1024;
constexpr std::size_t kMaxChanges = 50;
constexpr std::size_t kMaxChangeValue = 1024;

std::string cut(const std::string& s, std::size_t max = kMaxDetailText) {
  return text::cut_utf8_with_marker(s, max);
}

std::string headline(const incidents::Incident& inc) {
  return "[" + inc.cluster + "] " + inc.reason + ": " + inc.ns + "/" + inc.workload.name + " (" +
         inc.container + ", " + text::count_of(inc.all_pods.size(), "pod") + ", " +
         text::count_of(inc.restarts, "restart") + ")";
}

// What the workload's rollout changed, bounded: at most kMaxChanges entries, each value cut.
json bounded_changes(const incidents::Incident& inc) {
  json all = incidents::changes_json(inc);  // ours: an array of objects
  json out = json::array();
  for (auto& c : all) {
    if (out.size() == kMaxChanges) break;
    for (const char* k : {"from", "to"}) {
      if (auto v = parse::get_string(c, k)) c[k] = cut(*v, kMaxChangeValue);
    }
    out.push_back(std::move(c));
  }
  return out;
}

json custom_details(const incidents::Incident& inc, const std::string& facts,
                    std::size_t storm_size) {
  json pods = json::array();
  for (std::size_t i = 0; i < inc.all_pods.size() && i < PagerDutyNotifier::kMaxPods; ++i)
    pods.push_back(inc.all_pods[i]);
  json diagnosis = incidents::diagnosis_json(inc);
  if (diagnosis.is_null()) {
    diagnosis = {{"text", "no LLM diagnosis (yet): see facts and keyEvidence"},
                 {"model", ""},
                 {"source", "rules"}};
  } else {
    diagnosis["text"] = cut(inc.diagnosis.str());
  }
  json d = {{"incident", inc.id},
            {"facts", cut(facts)},
            {"diagnosis", std::move(diagnosis)},
            {"pods", std::move(pods)},
            {"podCount", inc.all_pods.size()},
            {"changes", bounded_changes(inc)},
            {"namespace", inc.ns},
            {"workload", inc.workload.kind + "/" + inc.workload.name},
            {"container", inc.container},
            {"reason", inc.reason},
            {"restarts", inc.restarts},
            {"firstSeen", format_rfc3339(inc.first_seen)}};
  if (inc.exit_code != 0) d["exitCode"] = inc.exit_code;
  if (!inc.message.empty()) d["lastStateMessage"] = cut(inc.message.str(), 4096);
  if (!inc.evidence.empty()) d["keyEvidence"] = cut(inc.evidence.str());
  if (storm_size > 1) {
    d["storm"] = "one of " + std::to_string(storm_size) + " workloads that started failing in " +
                 inc.cluster + " within a minute";
  }
  return d;
}

// The routing key never leaves send() in an error text.
std::string scrub(std::string s, const std::string& key) {
  if (key.empty()) return s;
  for (auto p = s.find(key); p != std::string::npos; p = s.find(key, p))
    s.replace(p, key.size(), "<routing key>");
  return s;
}

}  // namespace

std::string pagerduty_severity(const incidents::Incident& inc) {
  if (inc.severity == "critical" || inc.severity == "warning" || inc.severity == "info")
    return inc.severity;
  return inc.reason == "OOMKilled" ? "critical" : "warning";
}

std::vector<Payload> PagerDutyNotifier::render(const Rendering& r) const {
  std::vector<Payload> out;
  std::vector<const incidents::Incident*> incs;
  for (const auto* i : r.incidents) {
    if (s_.routing.accepts(*i)) incs.push_back(i);
  }
  for (const auto* inc : incs) {
    std::string event;
    json body;
    switch (r.type) {
      case incidents::EventType::kReminder:
        continue;  // the alert is still triggered; PagerDuty's escalation does the reminding
      case incidents::EventType::kResolved:
        event = "incident.resolved";
        body = {{"event_action", "resolve"}, {"dedup_key", inc->id}};
        break;
      case incidents::EventType::kDiagnosed:
        // After a resolve the same dedup_key would open a new alert: a late diagnosis of a
        // resolved incident is not worth a page.
        if (!inc->open()) continue;
        [[fallthrough]];
      case incidents::EventType::kOpened:
      case incidents::EventType::kDigest: {
        const bool diagnosed = r.type == incidents::EventType::kDiagnosed;
        event = diagnosed ? "incident.diagnosed" : "incident.opened";
        std::string facts = r.facts ? r.facts(*inc) : "";
        std::string summary = headline(*inc);
        if (diagnosed) {
          const std::string& d = inc->diagnosis.str();
          summary = "Diagnosis: " + summary + ": " + d.substr(0, d.find('\n'));
        }
        json payload = {
            {"summary", text::cut_utf8_with_marker(summary, kMaxSummary)},
            {"source", inc->cluster},
            {"severity", pagerduty_severity(*inc)},
            {"timestamp", format_rfc3339(inc->first_seen)},
            {"component", inc->workload.kind + "/" + inc->workload.name},
            {"group", inc->ns},
            {"class", inc->reason},
            {"custom_details",
             custom_details(*inc, facts,
                            r.type == incidents::EventType::kDigest ? incs.size() : 1)}};
        body = {{"event_action", "trigger"},
                {"dedup_key", inc->id},
                {"payload", std::move(payload)},
                {"client", "podmedic"}};
        if (!inc->runbook_url.empty())
          body["links"] = json::array({{{"href", inc->runbook_url}, {"text", "Runbook"}}});
        if (!s_.external_url.empty()) body["client_url"] = s_.external_url + "/#" + inc->id;
        break;
      }
    }
    out.push_back({event, parse::dump(body), inc->id});
  }
  return out;
}

SendResult PagerDutyNotifier::send(const Payload& p, const std::string&,
                                   const http::Cancel* cancel) {
  auto parsed = parse::json_text(p.body, "PagerDuty payload");
  if (!parsed.ok() || !parsed->is_object())
    return {Outcome::kPermanent, 0, std::chrono::seconds(0), "bad payload", {}};
  json body = std::move(parsed).value();  // our own rendering, an object
  body["routing_key"] = s_.routing_key;
  auto r =
      http::post(s_.url, {"Content-Type: application/json"}, parse::dump(body), s_.timeout, cancel);
  SendResult res = classify(r);
  if (res.outcome == Outcome::kCancelled || r.status == 0) {
    res.detail = scrub(res.detail, s_.routing_key);
    return res;
  }
  PagerDutyReply reply = parse_pagerduty_reply(r.body);
  if (res.outcome == Outcome::kOk) {
    // Delivered whatever the body says (re-posting could page twice), but a 2xx that is not
    // PagerDuty's "success" means the receiver is not the PagerDuty we expect: counted.
    if (reply.fault) {
      res.faults.push_back(*reply.fault);
      res.detail = "unusable reply to a 2xx: " + reply.detail;
    } else if (reply.status != "success") {
      res.faults.push_back(PeerFault::kWrongType);
      res.detail =
          "unexpected status in a 2xx reply: " + text::cut_utf8_with_marker(reply.status, 100);
    }
  } else if (!reply.fault && !reply.detail.empty()) {
    res.detail = reply.detail;  // PagerDuty's own words: "Event object is invalid: …"
  }
  res.detail = scrub(res.detail, s_.routing_key);
  return res;
}

PagerDutyReply parse_pagerduty_reply(std::string_view body) {
  PagerDutyReply r;
  auto j = parse::json_text(body, "PagerDuty reply");
  if (!j.ok()) {
    r.fault = PeerFault::kMalformed;
    r.detail =
        "the reply is not JSON: " + text::cut_utf8_with_marker(text::sanitize_utf8(body), 100);
    return r;
  }
  if (!j->is_object()) {
    r.fault = PeerFault::kWrongType;
    r.detail = std::string("the reply is ") + parse::type_name(*j) + ", not an object";
    return r;
  }
  auto status = parse::get_string(*j, "status");
  if (!status) {
    r.fault = PeerFault::kWrongType;
    r.detail = parse::field_error(*j, "status", "a string").message;
    return r;
  }
  r.status = text::sanitize_utf8(text::cut_utf8(*status, 100));
  std::string detail = parse::get_string(*j, "message").value_or(r.status);
  if (const json* errors = parse::get_array(*j, "errors")) {
    std::string sep = ": ";
    for (const auto& e : *errors) {
      if (!e.is_string()) continue;
      detail += sep + e.get_ref<const std::string&>();  // no-throw-check: is_string() checked
      sep = "; ";
      if (detail.size() > 400) break;
    }
  }
  r.detail = text::cut_utf8_with_marker(text::sanitize_utf8(detail), 400);
  return r;
}

}  // namespace podmedic::notifiers
