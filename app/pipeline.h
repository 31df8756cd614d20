#pragma once
// The composition root: the only place that names concrete classes. Wires the Kubernetes client,
// the stores, the watcher, the detector and the incident tracker on one io_context; incident
// events go to the sink given by the caller (console for the demo, logs for `run`; notifiers
// hang off the same point).
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <prometheus/registry.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "alerting/alert_hold.h"
#include "alerting/scheduler.h"
#include "app/config.h"
#include "core/clock.h"
#include "core/peer_errors.h"
#include "core/task_group.h"
#include "diagnosis/diagnoser.h"
#include "diagnosis/evidence.h"
#include "diagnosis/evidence_source.h"
#include "diagnosis/llm.h"
#include "diagnosis/llm_service.h"
#include "diagnosis/redact.h"
#include "ha/leader.h"
#include "ha/state_mirror.h"
#include "incidents/facts.h"
#include "incidents/tracker.h"
#include "k8s/client.h"
#include "rules/detect.h"
#include "server/http_server.h"
#include "watcher/watcher.h"

namespace podmedic::app {

struct PipelineOptions {
  std::chrono::milliseconds tick{1000};            // resolve/remind/digest cadence
  std::shared_ptr<prometheus::Registry> registry;  // shared with other components; null: own one
  bool stop_on_lost_leadership = true;  // ha: stop the io_context (the process exits, restarts)
  // ha: the notifiers' undelivered messages, mirrored with the state; adopted on take-over.
  std::function<nlohmann::json()> outbox_snapshot;
  std::function<std::size_t(const nlohmann::json&)> adopt_outbox;
  // Why the notifiers' own state (outbox, Slack threads) cannot be written; empty when it can.
  // Called from the HTTP thread (/readyz).
  std::function<std::string()> notifier_state_error;
  // The LLM client (an in-process fake in tests); null: an HttpLlmClient from ollama.*.
  std::shared_ptr<diagnosis::LlmClient> llm;
  // The group commit the incident state is written through (shared with the dispatcher's
  // outboxes; outlives the pipeline). Null: written synchronously on the pipeline thread.
  GroupCommit* writer = nullptr;
};

class Pipeline;

// What is built before the notifiers, so that nothing is bound after construction: the metrics
// registry, the informer caches the pipeline's watcher fills, the redactor, and the facts text
// read from them (which the console/log notifier, the notifiers and /api/incidents share). The
// composition root builds it first and keeps it until the pipeline and the notifiers are gone.
// The pipeline thread's, like the stores.
struct ClusterView {
  // `registry` null: one of its own. The redaction patterns were checked by load_config.
  explicit ClusterView(const Config& config,
                       std::shared_ptr<prometheus::Registry> registry = nullptr);
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;

  std::shared_ptr<prometheus::Registry> registry;
  watcher::WatchMetrics metrics;
  Interner interner;
  watcher::PodStore pods;
  watcher::EventStore events;
  diagnosis::Redactor redactor;
  incidents::Facts facts;
};

class Pipeline {
 public:
  // `view` (built first, see ClusterView) must outlive the pipeline; its registry is the one the
  // pipeline registers on (options.registry, when set, must be the same).
  Pipeline(boost::asio::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
           ClusterView& view, incidents::IncidentSink& sink, const Clock& clock,
           PipelineOptions options = {});
  // With a ClusterView of its own (on options.registry), for tests and benchmarks that need no
  // notifiers.
  Pipeline(boost::asio::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
           incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options = {});
  // Prepares state.dir (a clear error if unusable), restores incidents, starts watching and
  // the HTTP server on server.listen.
  Result<Ok> start();
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  unsigned short http_port() const { return http_port_; }
  bool synced() const { return watcher_->synced(); }
  // ha.enabled: whether this replica is the leader (always true without HA), and whether it was
  // and lost the Lease.
  bool leading() const { return leading_; }
  bool lost_leadership() const { return elector_ && elector_->lost(); }

  Interner& interner() { return interner_; }
  watcher::PodStore& pods() { return pods_; }
  watcher::EventStore& events() { return events_; }
  incidents::IncidentTracker& tracker() { return tracker_; }
  k8s::KubeClient& client() { return *client_; }
  prometheus::Registry& registry() { return *registry_; }
  const diagnosis::Diagnoser& diagnoser() const { return *diagnoser_; }
  incidents::IncidentMetrics& incident_metrics() { return incident_metrics_; }

  // The rules-based facts line of an incident (incidents::Facts::describe).
  const incidents::Facts& facts() const { return view_.facts; }

 private:
  Pipeline(boost::asio::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
           std::unique_ptr<ClusterView> own_view, ClusterView* view, incidents::IncidentSink& sink,
           const Clock& clock, PipelineOptions options);
  boost::asio::awaitable<void> run_ticks();
  // HA: the new leader takes the state its predecessor mirrored, then replays its pod cache.
  boost::asio::awaitable<void> take_over();
  // The /api/incidents body, rebuilt on the pipeline thread whenever incidents change (and each
  // tick) and served from the HTTP thread.
  void refresh_snapshot();
  void snapshot_soon();  // refresh_snapshot once, after the current burst of events
  boost::asio::awaitable<void> rebuild_snapshot();
  bool snapshot_queued_ = false;

  std::unique_ptr<ClusterView> own_view_;  // the second constructor's; null with the caller's
  ClusterView& view_;
  boost::asio::io_context& ioc_;
  PipelineOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  watcher::WatchMetrics& metrics_;
  PeerErrors peer_errors_;  // podmedic_peer_errors_total
  incidents::IncidentMetrics incident_metrics_;
  Interner& interner_;
  watcher::PodStore& pods_;
  watcher::EventStore& events_;
  std::unique_ptr<k8s::KubeClient> client_;
  std::unique_ptr<watcher::Watcher> watcher_;
  rules::Detector detector_;
  incidents::StateFile state_;
  incidents::IncidentSink& sink_;
  // The alert hold between the tracker and the caller's sink; its timers run in tasks_.
  alerting::AsioScheduler scheduler_;
  alerting::TrackerLedger ledger_;
  alerting::AlertHold stage_;
  const diagnosis::Redactor& redactor_;
  bool llm_enabled_;
  incidents::IncidentTracker tracker_;
  bool reconciled_ = false;
  // Evidence from the pod cache first; every LLM call (the Diagnoser's, the HTTP routes') goes
  // through the service, whose threads ~Pipeline joins first.
  std::unique_ptr<diagnosis::EvidenceSource> evidence_;
  std::unique_ptr<diagnosis::LlmService> llm_;
  std::unique_ptr<diagnosis::Diagnoser> diagnoser_;
  // The HTTP server runs on its own thread and io_context (at a lower CPU priority), so no
  // number of clients can starve the watch path; LLM routes hop onto the pipeline's thread.
  std::atomic<bool> synced_flag_{false};
  std::mutex snapshot_mu_;
  std::shared_ptr<const std::string> snapshot_;  // the JSON array of /api/incidents
  boost::asio::io_context http_ioc_;
  std::unique_ptr<server::HttpServer> http_;
  TaskGroup http_tasks_{http_ioc_};
  // HA (ha.enabled): the election, and the mirror of each saved state to <leaseName>-state.
  bool leading_ = true;
  std::unique_ptr<ha::LeaderElector> elector_;
  std::unique_ptr<ha::StateMirror> mirror_;
  std::thread http_thread_;
  unsigned short http_port_ = 0;
  std::size_t max_connections_ = 0;  // server.maxConnections, for reserve_descriptors
  TaskGroup tasks_;  // last: destroyed first, stopping the coroutines that use the members above
};

// File descriptors kept for everything but the API's connections: the watches, API server
// requests and log fetches, LLM and notifier connections, state and outbox writes, the
// io_contexts' own descriptors, stdio.
inline constexpr std::size_t kReservedDescriptors = 64;

// Makes room in RLIMIT_NOFILE for `max_connections` API connections plus kReservedDescriptors,
// so a flood of API clients cannot take the descriptors the watcher, notifiers and state writes
// need: raises the soft limit (up to the hard one) when it is lower; if the hard limit is too
// low, an error naming server.maxConnections and the largest value that fits (podmedic refuses
// to start rather than run with an API that can starve the watch).
Result<Ok> reserve_descriptors(std::size_t max_connections);

incidents::IncidentSettings incident_settings(const Config& c);
diagnosis::LlmSettings llm_settings(const Config& c);

}  // namespace podmedic::app
