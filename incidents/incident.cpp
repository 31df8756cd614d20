#include "incidents/incident.h"

#include <openssl/sha.h>

#include "core/units.h"

namespace podmedic::incidents {

std::string fingerprint(const std::string& cluster, const std::string& ns, const Workload& w,
                        const std::string& container, const std::string& reason) {
  return cluster + "/" + ns + "/" + w.kind + "/" + w.name + "/" + container + "/" + reason;
}

std::string incident_id(const std::string& fp, std::int64_t opened_at) {
  std::string input = fp + "#" + std::to_string(opened_at);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

nlohmann::json to_json(const Incident& i) {
  nlohmann::json pods = nlohmann::json::array();
  for (const auto& [name, rec] : i.pods) pods.push_back(name);
  nlohmann::json pod_state = nlohmann::json::object();
  for (const auto& [name, rec] : i.pods) {
    pod_state[name] = {{"restarts", rec.restarts}, {"healthySince", rec.healthy_since}};
  }
  nlohmann::json j = {{"id", i.id},
                      {"fingerprint", i.fingerprint},
                      {"cluster", i.cluster},
                      {"namespace", i.ns},
                      {"reason", i.reason},
                      {"workload", {{"kind", i.workload.kind}, {"name", i.workload.name}}},
                      {"container", i.container},
                      {"pods", i.all_pods},
                      {"activePods", pods},
                      {"restarts", i.restarts},
                      {"exitCode", i.exit_code},
                      {"firstSeen", format_rfc3339(i.first_seen)},
                      {"lastSeen", format_rfc3339(i.last_seen)},
                      {"message", i.message},
                      {"evidence", i.evidence},
                      {"state", i.open() ? "open" : "resolved"},
                      {"flaps", i.flaps},
                      {"podState", pod_state},
                      {"lastNotified", i.last_notified}};
  if (!i.open()) j["resolvedAt"] = format_rfc3339(i.resolved_at);
  if (!i.diagnosis.empty())
    j["diagnosis"] = {{"text", i.diagnosis}, {"model", i.diagnosis_model}, {"source", "llm"}};
  if (i.pending_alert) j["pendingAlert"] = true;
  return j;
}

bool from_json(const nlohmann::json& j, Incident& out) {
  if (!j.is_object()) return false;
  auto str = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  auto num = [&](const char* k) -> std::int64_t {
    return j.contains(k) && j[k].is_number() ? j[k].get<std::int64_t>() : 0;
  };
  out.id = str("id");
  out.fingerprint = str("fingerprint");
  out.cluster = str("cluster");
  out.ns = str("namespace");
  out.reason = str("reason");
  out.container = str("container");
  if (j.contains("workload") && j["workload"].is_object()) {
    out.workload.kind = j["workload"].value("kind", "");
    out.workload.name = j["workload"].value("name", "");
  }
  if (j.contains("pods") && j["pods"].is_array()) {
    for (const auto& p : j["pods"]) {
      if (p.is_string()) out.all_pods.push_back(p.get<std::string>());
    }
  }
  if (j.contains("podState") && j["podState"].is_object()) {
    for (const auto& [name, rec] : j["podState"].items()) {
      PodRecord r;
      if (rec.is_object()) {
        r.restarts = rec.value("restarts", 0u);
        r.healthy_since = rec.value("healthySince", std::int64_t{0});
      }
      out.pods[name] = r;
    }
  }
  out.restarts = static_cast<std::uint32_t>(num("restarts"));
  out.exit_code = static_cast<std::int32_t>(num("exitCode"));
  out.first_seen = parse_rfc3339(str("firstSeen"));
  out.last_seen = parse_rfc3339(str("lastSeen"));
  out.resolved_at = parse_rfc3339(str("resolvedAt"));
  out.last_notified = num("lastNotified");
  out.flaps = static_cast<std::uint32_t>(num("flaps"));
  out.message = str("message");
  out.evidence = str("evidence");
  if (j.contains("diagnosis") && j["diagnosis"].is_object()) {
    out.diagnosis = j["diagnosis"].value("text", "");
    out.diagnosis_model = j["diagnosis"].value("model", "");
  }
  out.pending_alert = j.value("pendingAlert", false);
  out.state = str("state") == "resolved" ? Incident::State::kResolved : Incident::State::kOpen;
  return !out.id.empty() && !out.fingerprint.empty() && !out.reason.empty();
}

}  // namespace podmedic::incidents
