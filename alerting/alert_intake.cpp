#include "alerting/alert_intake.h"

#include "core/log.h"

namespace podmedic::alerting {

AlertIntake::AlertIntake(std::string cluster, AlertIntakeIo io, const Clock& clock,
                         prometheus::Registry* registry)
    : cluster_(std::move(cluster)), io_(std::move(io)), clock_(clock) {
  if (registry) {
    total_ = &prometheus::BuildCounter()
                  .Name("podmedic_alertmanager_alerts_total")
                  .Help(
                      "Alerts taken from Alertmanager (POST /api/alertmanager), by outcome "
                      "(attached, diagnosed, duplicate, dropped)")
                  .Register(*registry);
    for (const char* o : {"attached", "diagnosed", "duplicate", "dropped"})
      total_->Add({{"outcome", o}});
  }
}

void AlertIntake::count(const char* outcome, double n) {
  if (total_) total_->Add({{"outcome", outcome}}).Increment(n);
}

incidents::AlertDiagnosis AlertIntake::make(const IncomingAlert& a) const {
  incidents::AlertDiagnosis d;
  d.cluster = cluster_;
  d.fingerprint = a.fingerprint;
  d.ns = a.ns;
  d.pod = a.pod;
  d.starts_at = a.starts_unix;
  for (const auto& [k, v] : a.labels) {
    if (k == "alertname") d.alertname = io_.seal(v);
    // Label names are peer text too, but only [a-zA-Z_][a-zA-Z0-9_]* reach a sink as keys.
    d.labels.emplace_back(k, io_.seal(v));
  }
  return d;
}

void AlertIntake::take(std::vector<IncomingAlert> alerts) {
  for (auto& a : alerts) {
    std::string id = a.fingerprint + "@" + a.starts_at;
    if (!seen_.insert(id).second) {
      count("duplicate");
      continue;
    }
    seen_order_.push_back(std::move(id));
    if (seen_order_.size() > kMaxSeen) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
    }
    auto d = make(a);
    if (const auto* inc = io_.find_open(a.ns, a.pod)) {
      // podmedic already knows this failure: its facts and diagnosis, no second LLM call.
      d.incident_id = inc->id;
      d.facts = io_.describe(*inc);
      d.diagnosis = inc->diagnosis;
      d.model = inc->diagnosis_model;
      done(std::move(d), "attached");
      continue;
    }
    if (pending_count_ >= kMaxPending) {
      count("dropped");
      logs_.write(log::Level::kWarn, "alertmanager", "full",
                  "too many alerts waiting for a diagnosis: dropped one",
                  {{"namespace", a.ns}, {"pod", a.pod}, {"limit", kMaxPending}});
      continue;
    }
    const std::string key = std::string(kKeyPrefix) + a.ns + "/" + a.pod;
    auto [it, fresh] = pending_.try_emplace(key);
    it->second.alerts.push_back(std::move(d));
    ++pending_count_;
    if (fresh && !io_.submit(key, a.ns, a.pod)) {
      count("dropped", static_cast<double>(it->second.alerts.size()));
      pending_count_ -= it->second.alerts.size();
      pending_.erase(it);
    }
  }
}

void AlertIntake::evidence_ready(const std::string& key, const Redacted& excerpt) {
  if (auto it = pending_.find(key); it != pending_.end()) it->second.evidence = excerpt;
}

void AlertIntake::diagnosis_ready(const std::string& key, bool ok, const Redacted& text,
                                  const std::string& model, bool dropped) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  pending_count_ -= p.alerts.size();
  if (dropped) {
    count("dropped", static_cast<double>(p.alerts.size()));
    logs_.write(log::Level::kWarn, "alertmanager", "dropped",
                "the diagnosis queue dropped an alert's request",
                {{"key", key}, {"alerts", p.alerts.size()}});
    return;
  }
  for (auto& d : p.alerts) {
    d.facts = "Alertmanager alert " + d.alertname.str() + " on pod " + d.ns + "/" + d.pod + ".";
    if (!p.evidence.empty()) d.facts += "\n\nKey evidence:\n" + p.evidence.str();
    if (ok && !text.empty()) {
      d.diagnosis = text;
      d.model = model;
    }
    done(std::move(d), "diagnosed");
  }
}

void AlertIntake::done(incidents::AlertDiagnosis d, const char* outcome) {
  d.diagnosed_at = clock_.unix_seconds();
  count(outcome);
  log::info("alertmanager", "alert diagnosed",
            {{"namespace", d.ns},
             {"pod", d.pod},
             {"fingerprint", d.fingerprint},
             {"outcome", outcome},
             {"incident", d.incident_id}});
  io_.deliver(d);
  recent_.push_front(std::move(d));
  if (recent_.size() > kMaxRecent) recent_.pop_back();
}

void AlertIntake::list(nlohmann::json& out) const {
  for (const auto& d : recent_) out.push_back(incidents::api_json(d));
}

}  // namespace podmedic::alerting
