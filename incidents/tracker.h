#pragma once
// IncidentTracker: turns per-pod findings into incidents, one per broken workload.
//
// - Fingerprint = cluster + namespace + workload + container + reason; replicas join silently.
// - Announced once (kOpened); restarts climbing say nothing; kReminder after renotify_after.
// - Resolved (kResolved) when every pod of the incident has been healthy (running, ready, no new
//   restart) for resolve_after, or all of them are gone.
// - A recurrence within flap_hold_down of the resolution reopens the same incident silently;
//   later, it opens a new one.
// - More than storm_threshold openings within storm_window become one kDigest.
// - State is persisted (StateFile) before an announcement is emitted, so a restart neither
//   repeats nor forgets; on a first start with no state, existing failures are announced once.
// Runs on the pipeline thread; not thread-safe. Time comes only from the Clock.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "incidents/incident.h"
#include "incidents/state_file.h"
#include "rules/detect.h"

namespace podmedic::incidents {

struct IncidentSettings {
  std::string cluster = "default";
  std::chrono::seconds resolve_after{300};
  std::chrono::seconds renotify_after{4 * 3600};  // 0: never
  std::chrono::seconds flap_hold_down{600};
  std::size_t storm_threshold = 8;
  std::chrono::seconds storm_window{60};
  std::chrono::seconds digest_delay{30};  // how long a storm's digest collects before it is sent
  std::size_t max_resolved_kept = 500;
  // The sink holds opened alerts (for the diagnosis) and confirms them with mark_alerted();
  // until confirmed, a restart announces them again.
  bool sink_confirms_alerts = false;
};

enum class EventType { kOpened, kReminder, kResolved, kDigest, kDiagnosed };
const char* to_string(EventType t);

struct IncidentEvent {
  EventType type;
  std::vector<const Incident*> incidents;  // one, or several for a digest
};

// Receives announcements synchronously; must not block (notifiers queue).
class IncidentSink {
 public:
  virtual ~IncidentSink() = default;
  virtual void on_incident_event(const IncidentEvent& e) = 0;
  // Another pod joined an open incident (silent for humans; the diagnoser may look at it).
  virtual void on_pod_joined(const Incident&, const std::string& /*pod*/) {}
};

struct IncidentMetrics {
  explicit IncidentMetrics(prometheus::Registry& r);
  prometheus::Family<prometheus::Counter>& total;  // podmedic_incidents_total{reason}
  prometheus::Gauge& open;                         // podmedic_incidents_open
  prometheus::Histogram& detection_latency;        // podmedic_detection_latency_seconds
  std::function<void(double)> latency_samples;     // optional: raw samples (benchmarks)
};

class IncidentTracker {
 public:
  IncidentTracker(IncidentSettings settings, const Clock& clock, IncidentSink& sink,
                  StateFile* state = nullptr, IncidentMetrics* metrics = nullptr);

  // Restores persisted incidents (call once, before the first observe).
  void load();
  // Forgets everything in memory (a new leader then load()s the state its predecessor left).
  void clear();
  // Called with the state after every successful save (HA mirrors it to a ConfigMap).
  std::function<void(const nlohmann::json&)> on_persist;
  // A pod changed; `current` are all its failing containers now (Detector::current).
  // `received` is when the watch bytes arrived, for the detection-latency histogram.
  void observe(const k8s::PodView& pod, const std::vector<rules::Finding>& current,
               const Interner& in, std::chrono::steady_clock::time_point received = {});
  void pod_gone(const std::string& ns, const std::string& pod);
  // After the initial sync: pods of restored incidents that no longer exist are gone.
  void reconcile(const std::function<bool(const std::string& ns, const std::string& pod)>& exists);
  // Time-driven work: resolve, remind, flush digests, persist. Call every second or so.
  void tick();
  void flush();  // persist now if anything changed

  // Attaches gathered (already redacted) evidence to an open incident.
  void set_evidence(const std::string& fingerprint, std::string evidence);
  // Attaches the LLM's explanation to an open incident that has none yet; persisted. Returns
  // the incident when it was attached.
  const Incident* set_diagnosis(const std::string& fingerprint, std::string text,
                                std::string model);
  // The opened alert of this incident has been handed to the notifiers (their outbox). Until
  // then a restart announces it again (pending_alert), so an alert held for its diagnosis is
  // never lost.
  void mark_alerted(const std::string& fingerprint);
  std::vector<const Incident*> incidents() const;  // open first (newest first), then resolved
  std::size_t open_count() const { return open_.size(); }
  const Incident* find_open(const std::string& fingerprint) const;

 private:
  bool join(Incident& inc, const k8s::PodView& pod, const rules::Finding& f, std::int64_t now);
  void announce(Incident& inc, std::int64_t now);
  void resolve(const std::string& fp, std::int64_t now);
  void persist();
  void update_gauge();

  IncidentSettings s_;
  const Clock& clock_;
  IncidentSink& sink_;
  StateFile* state_;
  IncidentMetrics* metrics_;
  std::map<std::string, Incident> open_;  // by fingerprint
  std::map<std::string, Incident>
      resolved_;  // latest resolved per fingerprint (hold-down, history)
  std::map<std::string, std::set<std::string>>
      pod_index_;                             // ns/pod → fingerprints of open incidents
  std::deque<std::int64_t> recent_openings_;  // announcement times, for storms
  std::vector<std::string> digest_;           // fingerprints waiting for the digest
  std::int64_t digest_started_ = 0;
  std::vector<std::string> unsent_;  // restored with pending_alert: announced again on tick
  bool dirty_ = false;
};

}  // namespace podmedic::incidents
