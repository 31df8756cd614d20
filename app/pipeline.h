#pragma once
// The composition root: the only place that names concrete classes. The constructor is the one
// wiring function: it builds everything in order (the state writer → the caches and the facts
// read from them → the Kubernetes client → the console line and the notifiers behind it → the LLM
// service and the diagnoser → the alert hold → the incident tracker → the /api/incidents
// snapshot → the watcher → HA → the HTTP server), each from its own section of the
// configuration, with nothing bound after construction. Every feature lives in its module
// (alerting/, diagnosis/, ha/, incidents/, notifiers/, server/, watcher/); what is left here is
// the order, the tick loop and the watch path's hand-off from the pod cache to the tracker.
// docs/architecture.md draws it.
#include <atomic>
#include <memory>
#include <thread>

#include <prometheus/registry.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "alerting/alert_hold.h"
#include "alerting/alert_intake.h"
#include "alerting/scheduler.h"
#include "app/config.h"
#include "core/clock.h"
#include "core/group_commit.h"
#include "core/peer_errors.h"
#include "core/task_group.h"
#include "diagnosis/diagnoser.h"
#include "diagnosis/evidence_source.h"
#include "diagnosis/llm.h"
#include "diagnosis/llm_service.h"
#include "diagnosis/redact.h"
#include "ha/leader.h"
#include "ha/state_mirror.h"
#include "incidents/facts.h"
#include "incidents/snapshot.h"
#include "incidents/tracker.h"
#include "k8s/client.h"
#include "notifiers/console.h"
#include "notifiers/dispatcher.h"
#include "rules/detect.h"
#include "server/http_server.h"
#include "watcher/watcher.h"

namespace podmedic::app {

struct PipelineOptions {
  std::chrono::milliseconds tick{1000};            // resolve/remind/digest cadence
  std::shared_ptr<prometheus::Registry> registry;  // shared with other components; null: own one
  bool stop_on_lost_leadership = true;  // ha: stop the io_context (the process exits, restarts)
  // The LLM client (an in-process fake in tests); null: an HttpLlmClient from ollama.*.
  std::shared_ptr<diagnosis::LlmClient> llm;
  // The group commit the incident state and the outboxes are written through (outlives the
  // pipeline); null: one of the pipeline's own.
  GroupCommit* writer = nullptr;
  // How long an MCP tool call may take (under the clients' default 60 s); a slower LLM leaves
  // diagnose with its evidence and a note. Tests shorten it.
  std::chrono::milliseconds mcp_tool_budget{45'000};
};

// Where `podmedic run` and `podmedic demo` send incident events: a log line each, then the
// notifiers of config.notifiers (run), or a console line each and no notifiers (demo).
enum class Output { kLogAndNotifiers, kConsole };

class Pipeline;

// What is built before the notifiers: the metrics registry, the informer caches the watcher
// fills, the redactor, and the facts text read from them (which the console/log notifier, the
// notifiers and /api/incidents share). The pipeline thread's, like the stores.
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
  // The daemon: incident events go to the log or console and the notifiers (`output`).
  Pipeline(boost::asio::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
           Output output, const Clock& clock, PipelineOptions options = {});
  // Tests and benchmarks: incident events go to `sink` alone (no notifiers).
  Pipeline(boost::asio::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
           incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options = {});
  // Prepares state.dir (a clear error if unusable), restores incidents, starts watching and
  // the HTTP server on server.listen, then the notifiers (restoring their outbox).
  Result<Ok> start();
  // After the io_context stopped: writes what is pending (the incident state, the outbox; what is
  // still undelivered stays in the outbox for the next start). Also run by the destructor.
  void stop();
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
           incidents::IncidentSink* sink, Output output, const Clock& clock,
           PipelineOptions options);
  boost::asio::awaitable<void> run_ticks();
  void resume_diagnoses();  // after the state is loaded: owed follow-ups are asked again
  void publish_status();    // podmedic_leader and podmedic_synced, each tick
  // HA: the new leader takes the state its predecessor mirrored, then replays its pod cache.
  boost::asio::awaitable<void> take_over();

  boost::asio::io_context& ioc_;
  PipelineOptions options_;
  std::unique_ptr<GroupCommit> own_writer_;  // null when options.writer is given
  GroupCommit& writer_;
  ClusterView view_;
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
  // The notifiers (run only) and the log/console line in front of them; sink_ is that line, or
  // the caller's sink.
  std::unique_ptr<notifiers::Dispatcher> dispatcher_;
  std::unique_ptr<notifiers::ConsoleNotifier> console_;
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
  // Alertmanager's alerts (POST /api/alertmanager), diagnosed through the diagnoser.
  std::unique_ptr<alerting::AlertIntake> intake_;
  // The HTTP server runs on its own thread and io_context (at a lower CPU priority), so no
  // number of clients can starve the watch path; LLM routes hop onto the pipeline's thread.
  std::atomic<bool> synced_flag_{false};
  prometheus::Gauge* leader_gauge_ = nullptr;  // podmedic_leader
  prometheus::Gauge* synced_gauge_ = nullptr;  // podmedic_synced
  incidents::IncidentSnapshot snapshot_;       // the /api/incidents body
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
  bool stopped_ = false;
  TaskGroup tasks_;  // last: destroyed first, stopping the coroutines that use the members above
};

}  // namespace podmedic::app
