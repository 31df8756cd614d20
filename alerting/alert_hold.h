#pragma once
// AlertHold: between the IncidentTracker and the notifiers. An opened incident is held (at most
// HoldSettings::wait) while its first pod's evidence is gathered and the LLM explains it; it is
// announced as soon as the answer is in, or when the hold ends with what is there (the
// rules-based facts always). A diagnosis that arrives after the alert follows as kDiagnosed (one
// follow-up at most). A diagnosis that failed for a passing reason (the LLM errored or was busy)
// is asked again, at most kMaxRetries times, kRetryDelay × attempt apart, while the follow-up
// is still owed; after a restart, resume() asks again for incidents announced without one. Digests
// are never held and get no follow-ups; a resolution that arrives while its alert is held goes out
// right after that alert.
//
// Held alerts are confirmed to the tracker (mark_alerted) only when handed on, so a restart
// re-announces them; at shutdown (the Scheduler stops) a held alert is not released: it stays
// pending for the next start rather than going to notifiers that are stopping.
//
// Runs on the pipeline thread; not thread-safe. Time comes only from the Scheduler.
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "alerting/scheduler.h"
#include "core/redacted.h"
#include "incidents/tracker.h"

namespace podmedic::alerting {

struct HoldSettings {
  // The longest an opened alert waits for its diagnosis; 0: alerts go out at once.
  std::chrono::milliseconds wait{0};
};

// The tracker, as far as the hold uses it (IncidentTracker's methods of the same names).
class IncidentLedger {
 public:
  virtual ~IncidentLedger() = default;
  // The opened alert was handed to the notifiers: a restart must not announce it again.
  virtual void mark_alerted(const std::string& fingerprint) = 0;
  virtual const incidents::Incident* find_open(const std::string& fingerprint) const = 0;
  virtual void set_evidence(const std::string& fingerprint, Redacted evidence) = 0;
  virtual void set_changes(const std::string& fingerprint,
                           std::vector<incidents::Change> changes) = 0;
  // The incident when the diagnosis was attached (it was open and had none), else null. With
  // `follow_up`, the tracker also announces it (kDiagnosed, back through the hold to the next
  // sink) once the state holding it is saved, like every other event.
  virtual const incidents::Incident* set_diagnosis(const std::string& fingerprint, Redacted text,
                                                   std::string model, bool follow_up) = 0;
};

// IncidentLedger over the real tracker.
class TrackerLedger final : public IncidentLedger {
 public:
  // The tracker need not be constructed yet, only before the first call.
  explicit TrackerLedger(incidents::IncidentTracker& tracker) : tracker_(tracker) {}
  void mark_alerted(const std::string& fp) override { tracker_.mark_alerted(fp); }
  const incidents::Incident* find_open(const std::string& fp) const override {
    return tracker_.find_open(fp);
  }
  void set_evidence(const std::string& fp, Redacted evidence) override {
    tracker_.set_evidence(fp, std::move(evidence));
  }
  void set_changes(const std::string& fp, std::vector<incidents::Change> changes) override {
    tracker_.set_changes(fp, std::move(changes));
  }
  const incidents::Incident* set_diagnosis(const std::string& fp, Redacted text, std::string model,
                                           bool follow_up) override {
    return tracker_.set_diagnosis(fp, std::move(text), std::move(model), follow_up);
  }

 private:
  incidents::IncidentTracker& tracker_;
};

class AlertHold final : public incidents::IncidentSink {
 public:
  // Asks for a pod's evidence and diagnosis; the answers come back through evidence_ready and
  // diagnosis_ready (possibly from inside this call, e.g. a request dropped from a full queue).
  // `opening`: for an incident that just opened (ahead of pods joining).
  using RequestDiagnosis = std::function<void(const std::string& fingerprint, const std::string& ns,
                                              const std::string& pod, bool opening)>;

  // `next` receives what goes out; `changed` is called whenever incidents changed as the API
  // should show them (an event passed through, a diagnosis attached).
  AlertHold(HoldSettings settings, incidents::IncidentSink& next, IncidentLedger& ledger,
            Scheduler& scheduler, RequestDiagnosis diagnose, std::function<void()> changed);
  ~AlertHold() override;
  AlertHold(const AlertHold&) = delete;
  AlertHold& operator=(const AlertHold&) = delete;

  void on_incident_event(const incidents::IncidentEvent& e) override;
  void on_pod_joined(const incidents::Incident& inc, const std::string& pod) override;
  // From the diagnoser: a pod's key log lines and events (redacted) were gathered, with what
  // its workload's rollout changed (redacted; empty: nothing seen). Like the excerpt, the first
  // pod's changes go to the held alert and the first non-empty ones to the tracker.
  void evidence_ready(const std::string& fingerprint, const std::string& pod,
                      const Redacted& excerpt, const std::vector<incidents::Change>& changes = {});
  // From the diagnoser: a pod's diagnosis ended; `ok` with the LLM's (redacted) answer.
  // `retryable`: it failed for a passing reason (an LLM error, a full queue).
  void diagnosis_ready(const std::string& fingerprint, const std::string& pod, bool ok,
                       const Redacted& text, const std::string& model, bool retryable = false);
  // After a restart (or a takeover): an open incident restored from the state that was
  // announced without a diagnosis gets one asked for again, and it follows as kDiagnosed.
  void resume(const incidents::Incident& inc);

  static constexpr int kMaxRetries = 3;
  static constexpr std::chrono::seconds kRetryDelay{30};

  std::size_t held() const { return held_.size(); }

 private:
  struct Held {
    incidents::Incident inc;  // a copy: the tracker may move or resolve its record meanwhile
    std::string pod;          // whose evidence and diagnosis the alert waits for
    Scheduler::Id timer = 0;  // the end of the hold (or "now", once answered)
    bool evidence = false, answered = false;
  };
  void hold_ended(const std::string& fingerprint);
  void release(const std::string& fingerprint);
  void schedule_retry(const std::string& fingerprint, const std::string& pod);
  void forget_followup(const std::string& fingerprint);

  HoldSettings s_;
  incidents::IncidentSink& next_;
  IncidentLedger& ledger_;
  Scheduler& scheduler_;
  RequestDiagnosis diagnose_;
  std::function<void()> changed_;
  // By fingerprint; one per open incident being held, each for at most s_.wait.
  std::map<std::string, Held> held_;
  // By fingerprint: resolutions of held incidents, sent after their alert (as many as the
  // tracker resolves one incident within one hold, in practice one).
  std::map<std::string, std::vector<incidents::Incident>> held_resolved_;
  // Announced without a diagnosis, so a late one follows; at most one per open incident, left
  // when the diagnosis follows or the incident resolves.
  std::set<std::string> followup_;
  // Diagnoses asked again after a passing failure, by fingerprint: attempts so far and the
  // pending timer (0: none). At most one per held or followed-up incident.
  struct Retry {
    int attempts = 0;
    Scheduler::Id timer = 0;
  };
  std::map<std::string, Retry> retries_;
};

}  // namespace podmedic::alerting
