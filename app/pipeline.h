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

#include "app/config.h"
#include "app/leader.h"
#include "core/clock.h"
#include "core/peer_errors.h"
#include "core/task_group.h"
#include "diagnosis/diagnoser.h"
#include "diagnosis/evidence.h"
#include "diagnosis/llm.h"
#include "diagnosis/redact.h"
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
  // The group commit the incident state is written through (shared with the dispatcher's
  // outboxes; outlives the pipeline). Null: written synchronously on the pipeline thread.
  GroupCommit* writer = nullptr;
};

class Pipeline;

// Between the tracker and the caller's sink. An opened incident is held (at most
// diagnosis.waitBeforeNotify) while its first pod's evidence is gathered and the LLM explains
// it; it is announced as soon as both are in, or when the hold ends with what is there (the
// rules-based facts always). A diagnosis that arrives after the alert follows as kDiagnosed.
// Held alerts are confirmed to the tracker when handed on, so a restart re-announces them.
class AlertStage final : public incidents::IncidentSink {
 public:
  AlertStage(Pipeline& pipeline, incidents::IncidentSink& next)
      : pipeline_(pipeline), next_(next) {}
  void on_incident_event(const incidents::IncidentEvent& e) override;
  void on_pod_joined(const incidents::Incident& inc, const std::string& pod) override;
  // From the diagnoser.
  void evidence_ready(const std::string& fingerprint, const std::string& pod,
                      const Redacted& excerpt);
  void diagnosis_ready(const std::string& fingerprint, const std::string& pod, bool ok,
                       const Redacted& text, const std::string& model);

 private:
  friend class Pipeline;
  struct Held {
    incidents::Incident inc;
    std::string pod;  // whose evidence and diagnosis the alert waits for
    std::unique_ptr<boost::asio::steady_timer> timer;
    bool evidence = false, answered = false;
  };
  boost::asio::awaitable<void> hold(std::string fingerprint);
  void release(const std::string& fingerprint);

  Pipeline& pipeline_;
  incidents::IncidentSink& next_;
  std::map<std::string, Held> held_;                                       // by fingerprint
  std::map<std::string, std::vector<incidents::Incident>> held_resolved_;  // by fingerprint
  std::set<std::string> followup_;  // announced alone without a diagnosis: a late one follows
};

class Pipeline {
 public:
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
  bool lost_leadership() const { return lost_leadership_; }

  Interner& interner() { return interner_; }
  watcher::PodStore& pods() { return pods_; }
  watcher::EventStore& events() { return events_; }
  incidents::IncidentTracker& tracker() { return tracker_; }
  k8s::KubeClient& client() { return *client_; }
  prometheus::Registry& registry() { return *registry_; }
  const diagnosis::Diagnoser& diagnoser() const { return *diagnoser_; }
  incidents::IncidentMetrics& incident_metrics() { return incident_metrics_; }

  // One line of rules-based facts for an incident, e.g. "[shop] OOMKilled Deployment/cart
  // container app: 3 pods, exit 137 (SIGKILL: out of memory), 4 restarts, memory limit 256Mi".
  std::string describe(const incidents::Incident& inc) const;

 private:
  friend class AlertStage;
  boost::asio::awaitable<void> run_ticks();
  boost::asio::awaitable<void> check_model();
  // HA: the new leader takes the state its predecessor mirrored, then replays its pod cache.
  boost::asio::awaitable<void> take_over();
  // HA: the leader mirrors each saved state to the ConfigMap <leaseName>-state.
  boost::asio::awaitable<void> mirror_state();
  std::string state_configmap_path(bool item) const;
  // The diagnoser's evidence and LLM call for one pod.
  boost::asio::awaitable<Result<diagnosis::GatheredEvidence>> gather(std::string ns,
                                                                     std::string pod);
  boost::asio::awaitable<Result<diagnosis::LlmAnswer>> explain(diagnosis::GatheredEvidence ev);
  void diagnosed(const diagnosis::DiagnosisOutcome& o);
  // The LLM routes of the HTTP API.
  boost::asio::awaitable<server::Response> ask(std::string question);
  boost::asio::awaitable<server::Response> diagnose(std::string question, std::string ns,
                                                    std::string pod);
  boost::asio::awaitable<server::Response> models();
  // One LLM chat on `pool`, timed; counts llm_error outcomes. llm_busy() counts "busy".
  boost::asio::awaitable<Result<diagnosis::LlmAnswer>> llm_chat(boost::asio::thread_pool& pool,
                                                                const char* system,
                                                                std::string user);
  // HTTP API requests to the LLM (/ask, /diagnose, /models; later /mcp): at most kMaxHttpLlm
  // in flight together, beyond that 429. They run on their own pool, so they cannot delay an
  // incident's diagnosis.
  static constexpr int kMaxHttpLlm = 2;
  bool llm_busy();
  // The /api/incidents body, rebuilt on the pipeline thread whenever incidents change (and each
  // tick) and served from the HTTP thread.
  void refresh_snapshot();
  void snapshot_soon();  // refresh_snapshot once, after the current burst of events
  boost::asio::awaitable<void> rebuild_snapshot();
  bool snapshot_queued_ = false;
  Redacted key_evidence(const diagnosis::Evidence& ev, const std::string& container) const;

  boost::asio::io_context& ioc_;
  PipelineOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  watcher::WatchMetrics metrics_;
  PeerErrors peer_errors_;  // podmedic_peer_errors_total
  incidents::IncidentMetrics incident_metrics_;
  Interner interner_;
  watcher::PodStore pods_;
  watcher::EventStore events_;
  std::unique_ptr<k8s::KubeClient> client_;
  std::unique_ptr<watcher::Watcher> watcher_;
  rules::Detector detector_;
  incidents::StateFile state_;
  incidents::IncidentSink& sink_;
  AlertStage stage_;
  diagnosis::Redactor redactor_;
  bool llm_enabled_;
  bool mask_names_;
  diagnosis::LogBudget budget_;
  std::chrono::milliseconds hold_;
  incidents::IncidentTracker tracker_;
  bool reconciled_ = false;
  std::shared_ptr<diagnosis::LlmClient> llm_;
  // Blocking LLM calls, in two lanes; results resume on the pipeline thread. Incidents:
  // diagnosis.concurrency threads for the Diagnoser's calls + 1 for the start-up model check,
  // so an incident's call never queues. HTTP routes: kMaxHttpLlm threads, their own.
  std::unique_ptr<boost::asio::thread_pool> llm_pool_;
  std::unique_ptr<boost::asio::thread_pool> http_llm_pool_;
  int http_llm_inflight_ = 0;  // HTTP LLM requests admitted (<= kMaxHttpLlm)
  std::unique_ptr<diagnosis::Diagnoser> diagnoser_;
  prometheus::Family<prometheus::Counter>* diagnoses_ =
      nullptr;                                     // podmedic_diagnoses_total{outcome}
  prometheus::Histogram* llm_duration_ = nullptr;  // podmedic_llm_request_duration_seconds
  // The HTTP server runs on its own thread and io_context (at a lower CPU priority), so no
  // number of clients can starve the watch path; LLM routes hop onto the pipeline's thread.
  std::atomic<bool> synced_flag_{false};
  std::mutex snapshot_mu_;
  std::shared_ptr<const std::string> snapshot_;  // the JSON array of /api/incidents
  boost::asio::io_context http_ioc_;
  std::unique_ptr<server::HttpServer> http_;
  TaskGroup http_tasks_{http_ioc_};
  // HA (ha.enabled).
  bool leading_ = true;
  bool lost_leadership_ = false;
  std::string ha_namespace_, state_configmap_;
  std::unique_ptr<LeaderElector> elector_;
  std::string mirror_text_;
  std::string mirrored_outbox_;
  std::string mirror_rv_;  // resourceVersion of our last write of the state ConfigMap
  bool mirror_dirty_ = false;
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
