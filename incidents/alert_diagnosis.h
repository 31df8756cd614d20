#pragma once
// AlertDiagnosis: an Alertmanager alert (POST /api/alertmanager) that podmedic diagnosed, either
// by attaching it to its own open incident for the pod or with evidence and a diagnosis of its
// own. Plain data with the two JSON forms PRODUCT.md fixes: the `alert.diagnosed` body that the
// Slack and webhook notifiers send, and the /api/incidents entry ("source": "alertmanager").
// Every peer or cluster string in it has passed the redactor (Redacted), or is a validated name.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/redacted.h"

namespace podmedic::incidents {

struct AlertDiagnosis {
  std::string cluster;
  std::string fingerprint;  // Alertmanager's
  Redacted alertname;
  std::string ns, pod;                                   // validated DNS names
  std::vector<std::pair<std::string, Redacted>> labels;  // bounded by the parser
  std::int64_t starts_at = 0;
  std::int64_t diagnosed_at = 0;
  std::string incident_id;  // podmedic's open incident it was attached to; "" when none
  std::string facts;        // rules-based summary (the incident's facts, or the pod's evidence)
  Redacted diagnosis;       // the LLM's; empty: rules only
  std::string model;
};

// {"type": "alert.diagnosed", "cluster", "alert": {fingerprint, alertname, namespace, pod,
// labels, startsAt}, "facts", "diagnosis": {text, model, source: llm | rules}} (+ "incidentId"
// when attached).
nlohmann::json alert_diagnosed_json(const AlertDiagnosis& a);
// One /api/incidents entry: the alert's fields, facts, diagnosis and "source": "alertmanager".
nlohmann::json api_json(const AlertDiagnosis& a);

}  // namespace podmedic::incidents
