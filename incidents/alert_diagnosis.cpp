#include "incidents/alert_diagnosis.h"

#include "core/units.h"

namespace podmedic::incidents {

using json = nlohmann::json;

namespace {

json alert_json(const AlertDiagnosis& a) {
  json labels = json::object();
  for (const auto& [k, v] : a.labels) labels[k] = v.str();
  return {{"fingerprint", a.fingerprint},
          {"alertname", a.alertname.str()},
          {"namespace", a.ns},
          {"pod", a.pod},
          {"labels", std::move(labels)},
          {"startsAt", format_rfc3339(a.starts_at)}};
}

json diagnosis_of(const AlertDiagnosis& a) {
  if (!a.diagnosis.empty())
    return {{"text", a.diagnosis.str()}, {"model", a.model}, {"source", "llm"}};
  return {{"text", a.facts}, {"model", ""}, {"source", "rules"}};
}

}  // namespace

json alert_diagnosed_json(const AlertDiagnosis& a) {
  json j = {{"type", "alert.diagnosed"},
            {"cluster", a.cluster},
            {"alert", alert_json(a)},
            {"facts", a.facts},
            {"diagnosis", diagnosis_of(a)}};
  if (!a.incident_id.empty()) j["incidentId"] = a.incident_id;
  return j;
}

json api_json(const AlertDiagnosis& a) {
  json j = alert_json(a);
  j["id"] = "am-" + a.fingerprint + "-" + std::to_string(a.starts_at);
  j["source"] = "alertmanager";
  j["cluster"] = a.cluster;
  j["reason"] = a.alertname.str();
  j["state"] = "open";
  // The fields the web page reads for every entry.
  j["workload"] = {{"kind", "Pod"}, {"name", a.pod}};
  j["container"] = "";
  j["pods"] = json::array({a.pod});
  j["restarts"] = 0;
  j["firstSeen"] = format_rfc3339(a.starts_at);
  j["lastSeen"] = format_rfc3339(a.diagnosed_at);
  j["facts"] = a.facts;
  j["diagnosis"] = diagnosis_of(a);
  if (!a.incident_id.empty()) j["incidentId"] = a.incident_id;
  return j;
}

}  // namespace podmedic::incidents
