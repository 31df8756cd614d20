#include "alerting/alert_hold.h"

#include "core/log.h"

namespace podmedic::alerting {

using incidents::EventType;

AlertHold::AlertHold(HoldSettings settings, incidents::IncidentSink& next, IncidentLedger& ledger,
                     Scheduler& scheduler, RequestDiagnosis diagnose, std::function<void()> changed)
    : s_(settings),
      next_(next),
      ledger_(ledger),
      scheduler_(scheduler),
      diagnose_(std::move(diagnose)),
      changed_(std::move(changed)) {}

AlertHold::~AlertHold() {
  // Nothing scheduled may call into a destroyed hold; the held alerts stay pending (unconfirmed)
  // in the tracker.
  for (const auto& [fp, h] : held_) scheduler_.cancel(h.timer);
  for (const auto& [fp, r] : retries_)
    if (r.timer) scheduler_.cancel(r.timer);
}

void AlertHold::forget_followup(const std::string& fingerprint) {
  followup_.erase(fingerprint);
  if (auto r = retries_.find(fingerprint); r != retries_.end()) {
    if (r->second.timer) scheduler_.cancel(r->second.timer);
    retries_.erase(r);
  }
}

void AlertHold::resume(const incidents::Incident& inc) {
  if (!inc.open() || inc.pending_alert || inc.last_notified == 0 || !inc.diagnosis.empty() ||
      inc.all_pods.empty() || held_.count(inc.fingerprint) || followup_.count(inc.fingerprint))
    return;
  followup_.insert(inc.fingerprint);
  diagnose_(inc.fingerprint, inc.ns, inc.all_pods.front(), false);
}

void AlertHold::schedule_retry(const std::string& fingerprint, const std::string& pod) {
  auto& r = retries_[fingerprint];
  if (r.timer || r.attempts >= kMaxRetries) return;
  ++r.attempts;
  r.timer = scheduler_.after(kRetryDelay * r.attempts, [this, fingerprint, pod] {
    auto it = retries_.find(fingerprint);
    if (it == retries_.end()) return;
    it->second.timer = 0;
    if (!followup_.count(fingerprint)) return;  // diagnosed or resolved meanwhile
    const auto* inc = ledger_.find_open(fingerprint);
    if (!inc || !inc->diagnosis.empty()) return;
    log::info("diagnosis", "asking the LLM again for an incident's diagnosis",
              {{"incident", inc->id}, {"attempt", it->second.attempts}});
    diagnose_(fingerprint, inc->ns, pod, false);
  });
}

void AlertHold::on_incident_event(const incidents::IncidentEvent& e) {
  changed_();  // the API shows what the notifiers are told
  switch (e.type) {
    case EventType::kOpened: {
      for (const auto* inc : e.incidents) {
        if (held_.count(inc->fingerprint)) continue;
        const std::string pod = inc->all_pods.empty() ? std::string() : inc->all_pods.front();
        if (s_.wait.count() == 0 || pod.empty()) {
          // Nothing to wait for.
          next_.on_incident_event({e.type, {inc}});
          ledger_.mark_alerted(inc->fingerprint);
          if (inc->diagnosis.empty()) followup_.insert(inc->fingerprint);
          continue;
        }
        const std::string fp = inc->fingerprint;
        Held h{*inc, pod};
        h.timer = scheduler_.after(s_.wait, [this, fp] { hold_ended(fp); });
        held_.emplace(fp, std::move(h));
        // Last: its answer may come back from inside the call.
        diagnose_(fp, inc->ns, pod, true);
      }
      return;
    }
    case EventType::kDigest:
      // A storm: one message now; the diagnoses land on the incidents, without follow-ups.
      next_.on_incident_event(e);
      for (const auto* inc : e.incidents) {
        ledger_.mark_alerted(inc->fingerprint);
        if (!inc->all_pods.empty())
          diagnose_(inc->fingerprint, inc->ns, inc->all_pods.front(), true);
      }
      return;
    case EventType::kResolved: {
      std::vector<const incidents::Incident*> now;
      for (const auto* inc : e.incidents) {
        forget_followup(inc->fingerprint);
        if (held_.count(inc->fingerprint)) {
          held_resolved_[inc->fingerprint].push_back(*inc);  // goes out after its alert
        } else {
          now.push_back(inc);
        }
      }
      if (!now.empty()) next_.on_incident_event({e.type, now});
      return;
    }
    case EventType::kReminder:
    case EventType::kDiagnosed:
      next_.on_incident_event(e);
      return;
  }
}

void AlertHold::on_pod_joined(const incidents::Incident& inc, const std::string& pod) {
  diagnose_(inc.fingerprint, inc.ns, pod, false);
}

void AlertHold::hold_ended(const std::string& fingerprint) {
  // The hold's time is up, or everything is in (answered: scheduled for "now"). The Scheduler
  // never calls this once shutting down, so an alert held then stays pending in the state file
  // and the next start announces it.
  auto h = held_.find(fingerprint);
  if (h == held_.end()) return;
  if (!h->second.answered) {
    log::info("diagnosis", "diagnosis not ready in time; alerting with the rules-based facts",
              {{"incident", h->second.inc.id}, {"evidence", h->second.evidence}});
  }
  release(fingerprint);
}

void AlertHold::release(const std::string& fingerprint) {
  auto it = held_.find(fingerprint);
  if (it == held_.end()) return;
  Held h = std::move(it->second);
  held_.erase(it);
  next_.on_incident_event({EventType::kOpened, {&h.inc}});
  ledger_.mark_alerted(fingerprint);
  if (h.inc.diagnosis.empty()) followup_.insert(fingerprint);
  auto held = held_resolved_.find(fingerprint);
  if (held == held_resolved_.end()) return;
  auto resolved = std::move(held->second);
  held_resolved_.erase(held);
  for (const auto& r : resolved) {
    forget_followup(fingerprint);
    next_.on_incident_event({EventType::kResolved, {&r}});
  }
}

void AlertHold::evidence_ready(const std::string& fingerprint, const std::string& pod,
                               const Redacted& excerpt,
                               const std::vector<incidents::Change>& changes) {
  auto it = held_.find(fingerprint);
  if (it != held_.end() && it->second.pod == pod) {
    it->second.evidence = true;
    it->second.inc.evidence = excerpt;
    if (!changes.empty()) it->second.inc.changes = changes;
  }
  if (const auto* inc = ledger_.find_open(fingerprint);
      inc && inc->evidence.empty() && !excerpt.empty()) {
    ledger_.set_evidence(fingerprint, excerpt);
  }
  if (const auto* inc = ledger_.find_open(fingerprint);
      inc && inc->changes.empty() && !changes.empty()) {
    ledger_.set_changes(fingerprint, changes);
  }
}

void AlertHold::diagnosis_ready(const std::string& fingerprint, const std::string& pod, bool ok,
                                const Redacted& text, const std::string& model, bool retryable) {
  auto it = held_.find(fingerprint);
  if (it != held_.end()) {
    auto& h = it->second;
    if (ok && h.inc.diagnosis.empty()) {
      h.inc.diagnosis = text;
      h.inc.diagnosis_model = model;
    }
    // Its own pod's answer, or any good one: the alert goes out now, with what there is. Not
    // from inside this call (it may come from inside the diagnoser's submit, itself inside the
    // tracker's announcement): "now" is after the caller returns.
    if ((h.pod == pod || ok) && !h.answered) {
      h.answered = true;
      scheduler_.cancel(h.timer);
      h.timer = scheduler_.after(std::chrono::milliseconds(0),
                                 [this, fp = fingerprint] { hold_ended(fp); });
    }
  }
  if (!ok) {
    // Owed a diagnosis (held, or announced without one): ask again later.
    if (retryable && (it != held_.end() || followup_.count(fingerprint)))
      schedule_retry(fingerprint, pod);
    return;
  }
  // The alert went out without it: the explanation follows as its own message, announced by the
  // tracker once the state holding it is saved (it comes back through on_incident_event).
  const bool follow_up = followup_.count(fingerprint) > 0;
  const auto* inc = ledger_.set_diagnosis(fingerprint, text, model, follow_up);
  if (!inc) return;
  forget_followup(fingerprint);
  changed_();
}

}  // namespace podmedic::alerting
