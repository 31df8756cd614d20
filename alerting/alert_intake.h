#pragma once
// AlertIntake: what podmedic does with the Alertmanager alerts POST /api/alertmanager hands over
// (firing, with namespace and pod labels inside the watch scope, not its own).
// - Once per Alertmanager fingerprint + startsAt: a repeat (Alertmanager re-sends a group every
//   group_interval and repeat_interval) is ignored. The set remembers the last kMaxSeen.
// - If podmedic has an open incident for that pod, the alert is attached to it: delivered at once
//   with the incident's facts and diagnosis, no LLM call.
// - Otherwise evidence and a diagnosis come through the Diagnoser's bounded queue (`submit`, keyed
//   "alertmanager/<ns>/<pod>": alerts for one pod wait for one request). At most kMaxPending
//   alerts wait at once; beyond it, and when the diagnoser drops the request, the alert is
//   dropped, counted and logged (a burst of 500 alerts is bounded by the queue and the LLM's
//   concurrency, and identical crashes share one LLM call through its cache).
// - Each result goes to `deliver` (the notifiers that take alert.diagnosed) and to the last
//   kMaxRecent kept for /api/incidents.
// Counted in podmedic_alertmanager_alerts_total{outcome} (attached, diagnosed, duplicate,
// dropped). Runs on the pipeline thread; not thread-safe. Its I/O is injected.
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/log.h"
#include "incidents/alert_diagnosis.h"
#include "incidents/incident.h"

namespace podmedic::alerting {

// One alert as the route hands it over (peer text: sealed here before it is kept).
struct IncomingAlert {
  std::string fingerprint;
  std::string starts_at;  // as sent: part of the identity
  std::int64_t starts_unix = 0;
  std::string ns, pod;  // validated DNS names
  std::vector<std::pair<std::string, std::string>> labels;
};

struct AlertIntakeIo {
  // podmedic's open incident with this pod, or null.
  std::function<const incidents::Incident*(const std::string& ns, const std::string& pod)>
      find_open;
  // Queues a diagnosis request for the pod under `key`; false when the queue dropped it.
  std::function<bool(const std::string& key, const std::string& ns, const std::string& pod)> submit;
  std::function<void(const incidents::AlertDiagnosis&)> deliver;
  std::function<std::string(const incidents::Incident&)> describe;  // an incident's facts
  std::function<Redacted(std::string_view)> seal;                   // the redactor
};

class AlertIntake {
 public:
  static constexpr std::size_t kMaxSeen = 10000;
  static constexpr std::size_t kMaxPending = 1000;
  static constexpr std::size_t kMaxRecent = 100;
  static constexpr std::string_view kKeyPrefix = "alertmanager/";

  AlertIntake(std::string cluster, AlertIntakeIo io, const Clock& clock,
              prometheus::Registry* registry = nullptr);

  void take(std::vector<IncomingAlert> alerts);
  // Whether a diagnoser request (its fingerprint) is one of ours.
  static bool ours(std::string_view key) { return key.substr(0, kKeyPrefix.size()) == kKeyPrefix; }
  // The diagnoser's evidence (redacted key lines and events) for one of our requests.
  void evidence_ready(const std::string& key, const Redacted& excerpt);
  // The diagnoser's outcome: `ok` with the LLM's (redacted) answer, or not (rules only);
  // `dropped` when its queue dropped the request.
  void diagnosis_ready(const std::string& key, bool ok, const Redacted& text,
                       const std::string& model, bool dropped);
  // The recent results as /api/incidents entries, newest first.
  void list(nlohmann::json& out) const;
  std::size_t pending() const { return pending_count_; }

 private:
  incidents::AlertDiagnosis make(const IncomingAlert& a) const;
  void done(incidents::AlertDiagnosis d, const char* outcome);
  void count(const char* outcome, double n = 1);

  std::string cluster_;
  AlertIntakeIo io_;
  const Clock& clock_;
  prometheus::Family<prometheus::Counter>* total_ = nullptr;
  std::set<std::string> seen_;  // fingerprint@startsAt, at most kMaxSeen
  std::deque<std::string> seen_order_;
  struct Pending {
    std::vector<incidents::AlertDiagnosis> alerts;
    Redacted evidence;
  };
  std::map<std::string, Pending> pending_;        // by diagnoser key
  std::size_t pending_count_ = 0;                 // alerts in pending_, at most kMaxPending
  std::deque<incidents::AlertDiagnosis> recent_;  // newest first, at most kMaxRecent
  log::RateLimited logs_;
};

}  // namespace podmedic::alerting
