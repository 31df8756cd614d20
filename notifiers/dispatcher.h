#pragma once
// Dispatcher: the incident sink that owns delivery. On the pipeline thread it routes and renders
// each event and appends the payloads to the notifier's bounded queue, persisted as an outbox
// under state.dir (so nothing announced is lost by a restart). With a GroupCommit (the daemon),
// on_incident_event never writes and never takes a lock a worker holds: the payloads wait,
// invisible to the worker, until the writer thread's next batch has written the outbox holding
// them (outboxes first in a batch, before the incident state), then the worker may send them.
// Without one, the outbox is written before on_incident_event returns (tests, the old path). One
// worker thread per notifier delivers in order: at most one post per min_interval, retries with
// capped jittered backoff honouring Retry-After, permanent failure on other 4xx (logged with the
// server's error string), and a circuit breaker that pauses a notifier after repeated failures.
// Whatever a receiver answers that cannot be used is counted in podmedic_peer_errors_total
// (peer slack|webhook) on the registry, and logged rate-limited. The outbox file is untrusted on
// load: one that does not load is set aside (<path>.corrupt-<unix>) and the valid messages kept.
// Durability: an outbox (or Slack thread file) write that fails is retried every second by the
// worker until it succeeds, counted in podmedic_state_write_errors_total{file}, and reported by
// state_ok() for /readyz. A delivered message whose removal could not be written yet is
// delivered again by a restart before that write succeeds (same X-Podmedic-Delivery id, so a
// webhook receiver can drop it); messages older than outbox_max_age are dropped, logged with
// their incident id, and counted (outcome "expired"). A payload with a coalescing key replaces
// the undelivered one with the same key (outcome "superseded"; the newer goes to the back).
// Shutdown: stop() aborts deliveries in flight (within http::kCancelLatency); the aborted message
// stays first in the outbox with its attempts unchanged, and nothing is counted for it.
// Time (pacing, backoff, Retry-After, the breaker, outbox_max_age, message ages) comes only from
// the Clock; with a test's clock, call wake() after advancing it.
// Thread-safe: on_incident_event from the pipeline thread; workers are internal.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/group_commit.h"
#include "core/peer_errors.h"
#include "incidents/state_file.h"
#include "notifiers/notifier.h"

namespace podmedic::notifiers {

struct DispatcherSettings {
  std::string state_dir;
  std::size_t max_queue = 1000;
  // backoff.cap also bounds how long a server's Retry-After can hold the queue.
  BackoffPolicy backoff{std::chrono::milliseconds(1000), std::chrono::milliseconds(300'000),
                        std::chrono::milliseconds(600'000), 1.0};
  int breaker_threshold = 5;  // consecutive failures that open the breaker
  std::chrono::milliseconds breaker_cooldown{60'000};
  // state.outboxMaxAge: undelivered messages older than this are dropped (logged, counted).
  std::chrono::milliseconds outbox_max_age{std::chrono::hours(24)};
};

struct NotifyMetrics {
  explicit NotifyMetrics(prometheus::Registry& r);
  prometheus::Family<prometheus::Counter>& total;  // podmedic_notifications_total{notifier,outcome}
  prometheus::Family<prometheus::Gauge>& depth;    // podmedic_notification_queue_depth{notifier}
  // podmedic_state_write_errors_total{file="outbox"|"slack_threads"}
  prometheus::Counter& outbox_write_errors;
  prometheus::Counter& slack_threads_write_errors;
};

class Dispatcher final : public incidents::IncidentSink {
 public:
  using Facts = std::function<std::string(const incidents::Incident&)>;
  // `writer`: the group commit shared with the incident tracker (null: synchronous outbox writes);
  // it must outlive this dispatcher.
  Dispatcher(DispatcherSettings settings, std::vector<std::unique_ptr<Notifier>> notifiers,
             Facts facts, prometheus::Registry* registry = nullptr,
             const Clock& clock = system_clock(), GroupCommit* writer = nullptr);
  ~Dispatcher() override;

  // Restores each notifier's outbox and starts the workers.
  Result<Ok> start();
  void on_incident_event(const incidents::IncidentEvent& e) override;
  // Pipeline thread, every tick: for each notifier with a resend_interval() that has elapsed
  // (and on the first call, so a restart re-posts at once), renders the open incidents among
  // `incidents` that were announced (not pending_alert) as a Rendering::resend.
  void resend(const std::vector<const incidents::Incident*>& incidents);
  // Pipeline thread: an Alertmanager alert podmedic diagnosed, to the notifiers that take it
  // (Notifier::render_alert), through the same queue, outbox and retries.
  void on_alert_diagnosed(const incidents::AlertDiagnosis& a);
  // Aborts the deliveries in flight and stops the workers; returns within about
  // http::kCancelLatency plus one outbox write. What is pending stays in the outbox (with a group
  // commit, written synchronously here, after the batch in progress). Idempotent; not
  // restartable.
  void stop();
  // Workers re-read the clock now (tests, after advancing a FakeClock).
  void wake();
  // Whether every outbox and thread file was last written successfully (any thread), and the
  // first error when not ("" when ok), for /readyz.
  bool state_ok() const;
  std::string state_error() const;
  // Undelivered messages, including those not yet durable (group commit).
  std::size_t pending() const;
  // HA: the undelivered messages of every notifier ({name: [messages]}), which the leader mirrors;
  // and adopting a predecessor's, keeping delivery ids (messages already queued are skipped).
  nlohmann::json outbox_snapshot() const;
  std::size_t adopt(const nlohmann::json& snapshot);
  std::size_t notifiers() const { return workers_.size(); }

  // The largest outbox file we load.
  static constexpr std::size_t kMaxOutboxFile = 256u << 20;

 private:
  struct Worker;
  DispatcherSettings s_;
  Facts facts_;
  const Clock& clock_;
  GroupCommit* writer_;
  std::unique_ptr<NotifyMetrics> metrics_;
  std::unique_ptr<PeerErrors> peer_errors_;           // with a registry
  std::vector<std::unique_ptr<Notifier>> notifiers_;  // before workers_: outlives them
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace podmedic::notifiers
