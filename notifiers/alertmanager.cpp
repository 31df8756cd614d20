// The Alertmanager notifier (API v2 alerts): rendering on the pipeline thread, posting on the
// worker thread.
#include "notifiers/alertmanager.h"

#include <algorithm>

#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"
#include "k8s/connection.h"

namespace podmedic::notifiers {

using json = nlohmann::json;

namespace {

// The severity label: the incident's own (detect.severity).
std::string severity_of(const incidents::Incident& inc) {
  return inc.severity;
}

std::string summary(const incidents::Incident& inc) {
  const std::size_t pods = std::max<std::size_t>(inc.pods.size(), 1);
  return inc.reason + ": " + inc.workload.kind + " " + inc.ns + "/" + inc.workload.name +
         ", container " + inc.container + " (" + std::to_string(pods) +
         (pods == 1 ? " pod, " : " pods, ") + std::to_string(inc.restarts) + " restarts)";
}

std::string bounded(std::string_view text) {
  return text::cut_utf8_with_marker(text, AlertmanagerNotifier::kMaxAnnotation);
}

}  // namespace

const std::vector<std::string>& alertmanager_own_labels() {
  static const std::vector<std::string> own = {"alertname", "severity",      "cluster",
                                               "namespace", "workload_kind", "workload",
                                               "container", "reason",        "podmedic_incident"};
  return own;
}

std::string check_label_name(const std::string& name) {
  auto head = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto tail = [&](char c) { return head(c) || (c >= '0' && c <= '9'); };
  if (name.empty() || !head(name.front()) || !std::all_of(name.begin(), name.end(), tail))
    return "\"" + name + "\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)";
  if (name.rfind("__", 0) == 0) return "\"" + name + "\": names starting with __ are reserved";
  const auto& own = alertmanager_own_labels();
  if (std::find(own.begin(), own.end(), name) != own.end())
    return "\"" + name + "\" is set by podmedic and cannot be overridden";
  return "";
}

std::string alertname(const std::string& reason) {
  if (reason == "CrashLoopBackOff") return "PodCrashLooping";
  return "Pod" + reason;  // PodImagePullBackOff, PodOOMKilled, Pod<Reason>
}

json alertmanager_alert(const incidents::Incident& inc, const std::string& facts,
                        const AlertmanagerSettings& s) {
  // Static labels first: ours overwrite any (config validation already refuses them).
  json labels = json::object();
  for (const auto& [k, v] : s.labels) labels[k] = v;
  labels["alertname"] = alertname(inc.reason);
  labels["severity"] = severity_of(inc);
  labels["cluster"] = inc.cluster;
  labels["namespace"] = inc.ns;
  labels["workload_kind"] = inc.workload.kind;
  labels["workload"] = inc.workload.name;
  labels["container"] = inc.container;
  labels["reason"] = inc.reason;
  labels["podmedic_incident"] = inc.id;
  json annotations = {{"summary", summary(inc)}, {"description", bounded(facts)}};
  if (!inc.diagnosis.empty()) annotations["diagnosis"] = bounded(inc.diagnosis.str());
  if (!inc.runbook_url.empty()) annotations["runbook_url"] = inc.runbook_url;
  json alert = {{"labels", std::move(labels)},
                {"annotations", std::move(annotations)},
                {"startsAt", format_rfc3339(inc.first_seen)}};
  if (!inc.open()) alert["endsAt"] = format_rfc3339(inc.resolved_at);
  if (!s.external_url.empty()) alert["generatorURL"] = s.external_url + "/#" + inc.id;
  return alert;
}

AlertmanagerNotifier::AlertmanagerNotifier(AlertmanagerSettings s, const Clock& clock)
    : s_(std::move(s)), clock_(clock) {
  headers_ = {"Content-Type: application/json"};
  if (!s_.bearer_token.empty()) {
    headers_.push_back("Authorization: Bearer " + s_.bearer_token);
  } else if (!s_.basic_username.empty()) {
    headers_.push_back("Authorization: Basic " +
                       k8s::base64_encode(s_.basic_username + ":" + s_.basic_password));
  }
}

std::vector<Payload> AlertmanagerNotifier::render(const Rendering& r) const {
  std::vector<Payload> out;
  for (const auto* inc : r.incidents) {
    if (!s_.routing.accepts(*inc)) continue;
    // Every event carries the whole current state: opened, digest, reminder, diagnosed and the
    // periodic resend post it firing; resolved posts it ended.
    const bool resolved = r.type == incidents::EventType::kResolved || !inc->open();
    std::string facts = r.facts ? r.facts(*inc) : "";
    Payload p{resolved ? kResolved : kFiring, parse::dump(alertmanager_alert(*inc, facts, s_)),
              inc->id};
    p.key = inc->id;
    out.push_back(std::move(p));
  }
  return out;
}

SendResult AlertmanagerNotifier::send(const Payload& p, const std::string& /*delivery_id*/,
                                      const http::Cancel* cancel) {
  // The body comes back from the outbox file: untrusted, read without throwing.
  auto alert = parse::json_text(p.body, "outbox alert");
  if (!alert.ok() || !alert->is_object()) {
    SendResult bad;
    bad.outcome = Outcome::kPermanent;
    bad.detail = alert.ok() ? "outbox alert: not an object" : alert.error().message;
    return bad;
  }
  if (p.event == kFiring) {
    // Stamped now, not when rendered: a post that waited out an outage is still current.
    const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(4 * s_.resend_interval);
    alert->erase("endsAt");
    alert->emplace("endsAt", format_rfc3339(clock_.unix_seconds() + ttl.count()));
  }
  const std::string body = parse::dump(json::array({std::move(*alert)}));
  SendResult result;
  bool accepted = false, retryable = false;
  for (std::size_t i = 0; i < s_.urls.size(); ++i) {
    std::string base = s_.urls[i];
    while (!base.empty() && base.back() == '/') base.pop_back();
    SendResult r = classify(http::request("POST", base + "/api/v2/alerts", headers_, body,
                                          s_.timeout, 4096, cancel, s_.ca_file));
    if (r.outcome == Outcome::kCancelled) return r;
    result.faults.insert(result.faults.end(), r.faults.begin(), r.faults.end());
    if (r.outcome == Outcome::kOk) {
      accepted = true;
      result.status = r.status;
      continue;
    }
    retryable = retryable || r.outcome == Outcome::kRetry;
    if (!accepted) result.status = r.status;
    result.retry_after = std::max(result.retry_after, r.retry_after);
    // The replica by its index: a URL may hold credentials, and logs never show them.
    if (result.detail.empty()) result.detail = "urls[" + std::to_string(i) + "]: " + r.detail;
  }
  result.outcome = accepted ? Outcome::kOk : retryable ? Outcome::kRetry : Outcome::kPermanent;
  return result;
}

}  // namespace podmedic::notifiers
