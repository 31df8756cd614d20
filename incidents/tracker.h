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
// - Group commit (use_group_commit(), the daemon): observe/tick/mark_alerted/set_diagnosis never
//   write. The first change of a burst posts one seal onto the tracker's executor; the seal takes
//   one snapshot of the whole state and hands it to the GroupCommit writer thread (latest
//   snapshot wins; one write in flight, what changes meanwhile is sealed when it completes).
//   Every event is held until the batch holding the state that records it has been written; the
//   writer's completion comes back through `post` and releases it then (on_persist too). So
//   notification latency grows by about one write; detection latency does not. flush() (at
//   shutdown) writes synchronously what is pending and releases what was held. Without a group
//   commit, every change is saved synchronously on the caller's thread (tests, benchmarks' "sync").
// - When that save fails (disk full, state.dir gone and not re-creatable, EMFILE), the
//   announcement is held and the save retried every tick: once it succeeds the held events go out
//   in order, so nothing reaches a human that a restart could announce again (a restart in
//   between detects the still-failing pod anew and announces it once). A save failing for longer
//   than hold_unsaved stops holding: events go out unsaved (at-least-once; a restart may repeat
//   them) rather than never. state_ok() says whether the last save succeeded (/readyz).
// Runs on the pipeline thread; not thread-safe (the writer's completions are posted back to it).
// Time comes only from the Clock.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/group_commit.h"
#include "incidents/incident.h"
#include "incidents/state_file.h"
#include "rules/detect.h"

namespace podmedic::incidents {

// PRODUCT.md's default severities: OOMKilled critical, the other reasons warning.
std::map<std::string, std::string> default_severity();

struct IncidentSettings {
  std::string cluster = "default";
  // Severity per reason (critical | warning | info; a reason not listed is warning) and runbook
  // URL templates per reason (incident.h expand_runbook); stamped on an incident when it opens
  // and when it is read back from the state file, so a changed configuration applies at restart.
  std::map<std::string, std::string> severity = default_severity();
  std::map<std::string, std::string> runbooks;
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
  // How long announcements wait for a failed state save to succeed (counted from the first failure
  // of a streak) before going out without it.
  std::chrono::seconds hold_unsaved{30};
  // The choke point for text from the cluster that an incident keeps (a container's waiting or
  // termination message): it is stored, persisted, mirrored and announced only as this returns
  // it. Null: such text is not kept at all (never a raw copy).
  std::function<Redacted(std::string_view)> redact;
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
  prometheus::Counter& state_write_errors;  // podmedic_state_write_errors_total{file="incidents"}
};

class IncidentTracker {
 public:
  IncidentTracker(IncidentSettings settings, const Clock& clock, IncidentSink& sink,
                  StateFile* state = nullptr, IncidentMetrics* metrics = nullptr);
  ~IncidentTracker();
  IncidentTracker(const IncidentTracker&) = delete;
  IncidentTracker& operator=(const IncidentTracker&) = delete;

  // Runs a function on the tracker's thread later (the pipeline's executor); callable from any
  // thread.
  using Post = std::function<void(std::function<void()>)>;
  // Writes the state through `writer` (shared with the notifiers' outboxes, which take a lower
  // `order` so a batch writes them first) instead of on this thread; completions come back
  // through `post`. Needs a StateFile; call once, before load(). The writer must outlive this.
  void use_group_commit(GroupCommit& writer, Post post, int order = 1);

  // Restores persisted incidents (call once, before the first observe).
  void load();
  // Forgets everything in memory (a new leader then load()s the state its predecessor left).
  void clear();
  // Called with the state after every successful save (HA mirrors it to a ConfigMap), on the
  // tracker's thread.
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
  // Persists now, on this thread, if anything changed or is not durable yet (shutdown); with a
  // group commit, also hands on the announcements that waited for it.
  void flush();

  // Attaches gathered (already redacted) evidence to an open incident.
  void set_evidence(const std::string& fingerprint, Redacted evidence);
  // Attaches the LLM's explanation to an open incident that has none yet; persisted. Returns
  // the incident when it was attached.
  // With `follow_up` (the alert went out without it), also announces it as kDiagnosed, like any
  // other event: only once the state holding the diagnosis is saved.
  const Incident* set_diagnosis(const std::string& fingerprint, Redacted text, std::string model,
                                bool follow_up = false);
  // The opened alert of this incident has been handed to the notifiers (their outbox). Until
  // then a restart announces it again (pending_alert), so an alert held for its diagnosis is
  // never lost.
  void mark_alerted(const std::string& fingerprint);
  std::vector<const Incident*> incidents() const;  // open first (newest first), then resolved
  std::size_t open_count() const { return open_.size(); }
  const Incident* find_open(const std::string& fingerprint) const;
  // Whether the last state save succeeded (true without a state file). Any thread (an atomic).
  bool state_ok() const { return !state_ || state_->healthy(); }
  // Announcements waiting for the state to be saved.
  std::size_t held() const { return held_.size(); }
  // At most this many held announcements; beyond it the oldest go out unsaved.
  static constexpr std::size_t kMaxHeld = 1000;

 private:
  bool join(Incident& inc, const k8s::PodView& pod, const rules::Finding& f, std::int64_t now);
  // Severity and runbook URL from the settings.
  void classify(Incident& inc) const;
  void announce(Incident& inc, std::int64_t now);
  void resolve(const std::string& fp, std::int64_t now);
  // An event by fingerprints (looked up again when it is emitted: held ones outlive pointers).
  struct Held {
    EventType type;
    std::vector<std::string> fingerprints;
    std::uint64_t seq = 0;  // group commit: the first seal whose snapshot records this event
  };
  // Saves the state now, on this thread; false when that failed (then dirty_ stays set for the
  // next tick).
  bool persist();
  // A change to make durable: saved now (true when it was), or, with a group commit, scheduled
  // (false: the event is held until its batch is written).
  bool commit();
  void schedule();                                             // posts one seal for the burst
  void seal();                                                 // snapshot → writer
  void on_saved(std::uint64_t seq, const std::string& error);  // the writer's completion
  void release_upto(std::uint64_t seq);
  bool failing_too_long(std::int64_t now) const;
  nlohmann::json snapshot() const;
  void save_failed(const std::string& error);
  void save_succeeded(const nlohmann::json& j);
  // Emits `e` now when `saved` (after the events held before it) or when the failure streak is
  // older than hold_unsaved; otherwise holds it.
  void deliver(Held e, bool saved);
  void release_held(bool saved);
  void emit(const Held& e);
  const Incident* lookup(const std::string& fingerprint, EventType type) const;
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
  std::deque<Held> held_;  // bounded by kMaxHeld
  // Openings (and digests) held, by fingerprint → pods that joined meanwhile, reported to the
  // sink's on_pod_joined right after the announcement. At most one per held incident, each at
  // most kMaxPodNames pods.
  std::map<std::string, std::vector<std::string>> joins_held_;
  std::int64_t unsaved_since_ = 0;  // first failed save of the current streak, 0: none
  std::string last_error_;          // of the last save, "" when it succeeded
  // Group commit.
  GroupCommit* writer_ = nullptr;
  GroupCommit::SlotId slot_ = 0;
  Post post_;
  bool seal_posted_ = false;
  std::uint64_t seal_seq_ = 0;                           // snapshots sealed so far
  std::uint64_t inflight_seq_ = 0;                       // the one being written, 0: none
  std::shared_ptr<const nlohmann::json> inflight_snap_;  // for on_persist
  // Posted closures and completions reach this tracker only while it lives.
  std::shared_ptr<IncidentTracker*> alive_ = std::make_shared<IncidentTracker*>(this);
};

}  // namespace podmedic::incidents
