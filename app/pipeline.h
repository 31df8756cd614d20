#pragma once
// The composition root: the only place that names concrete classes. Wires the Kubernetes client,
// the stores, the watcher, the detector and the incident tracker on one io_context; incident
// events go to the sink given by the caller (console for the demo, logs for `run`; notifiers
// hang off the same point).
#include <map>
#include <memory>
#include <set>

#include <prometheus/registry.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "app/config.h"
#include "core/clock.h"
#include "core/task_group.h"
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
};

class Pipeline;

// Between the tracker and the caller's sink: an opened incident is held while the evidence for
// its first pod is gathered (at most `hold`), then announced with the redacted key log lines and
// events attached. On timeout it goes out without them: alerts are never held hostage.
class EvidenceStage final : public incidents::IncidentSink {
 public:
  EvidenceStage(Pipeline& pipeline, incidents::IncidentSink& next)
      : pipeline_(pipeline), next_(next) {}
  void on_incident_event(const incidents::IncidentEvent& e) override;
  void announced(const incidents::Incident& inc);  // the held alert went out

 private:
  Pipeline& pipeline_;
  incidents::IncidentSink& next_;
  std::map<std::string, std::vector<incidents::Incident>> held_resolved_;  // by fingerprint
  std::set<std::string> pending_;                                          // alerts being enriched
};

class Pipeline {
 public:
  Pipeline(boost::asio::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
           incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options = {});
  // Prepares state.dir (a clear error if unusable), restores incidents, starts watching and
  // the HTTP server on server.listen.
  Result<Ok> start();
  unsigned short http_port() const { return http_port_; }
  bool synced() const { return watcher_->synced(); }

  Interner& interner() { return interner_; }
  watcher::PodStore& pods() { return pods_; }
  watcher::EventStore& events() { return events_; }
  incidents::IncidentTracker& tracker() { return tracker_; }
  k8s::KubeClient& client() { return *client_; }
  prometheus::Registry& registry() { return *registry_; }
  incidents::IncidentMetrics& incident_metrics() { return incident_metrics_; }

  // One line of rules-based facts for an incident, e.g. "[shop] OOMKilled Deployment/cart
  // container app: 3 pods, exit 137 (SIGKILL: out of memory), 4 restarts, memory limit 256Mi".
  std::string describe(const incidents::Incident& inc) const;

 private:
  friend class EvidenceStage;
  boost::asio::awaitable<void> run_ticks();
  boost::asio::awaitable<void> enrich_and_announce(incidents::Incident inc);
  // The LLM routes of the HTTP API.
  boost::asio::awaitable<server::Response> ask(std::string question);
  boost::asio::awaitable<server::Response> diagnose(std::string question, std::string ns,
                                                    std::string pod);
  boost::asio::awaitable<server::Response> models();
  // One LLM chat on the pool, timed; counts llm_error outcomes. llm_busy() counts "busy".
  boost::asio::awaitable<Result<diagnosis::LlmAnswer>> llm_chat(const char* system,
                                                                std::string user);
  bool llm_busy();
  std::string key_evidence(const diagnosis::Evidence& ev, const std::string& container) const;

  boost::asio::io_context& ioc_;
  PipelineOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  watcher::WatchMetrics metrics_;
  incidents::IncidentMetrics incident_metrics_;
  Interner interner_;
  watcher::PodStore pods_;
  watcher::EventStore events_;
  std::unique_ptr<k8s::KubeClient> client_;
  std::unique_ptr<watcher::Watcher> watcher_;
  rules::Detector detector_;
  incidents::StateFile state_;
  incidents::IncidentSink& sink_;
  EvidenceStage stage_;
  diagnosis::Redactor redactor_;
  diagnosis::LogBudget budget_;
  std::chrono::milliseconds hold_;
  incidents::IncidentTracker tracker_;
  bool reconciled_ = false;
  std::shared_ptr<diagnosis::LlmClient> llm_;
  boost::asio::thread_pool llm_pool_{
      2};  // blocking LLM calls; results resume on the pipeline thread
  int llm_inflight_ = 0;
  prometheus::Family<prometheus::Counter>* diagnoses_ =
      nullptr;                                     // podmedic_diagnoses_total{outcome}
  prometheus::Histogram* llm_duration_ = nullptr;  // podmedic_llm_request_duration_seconds
  std::unique_ptr<server::HttpServer> http_;
  unsigned short http_port_ = 0;
  TaskGroup tasks_;  // last: destroyed first, stopping the coroutines that use the members above
};

incidents::IncidentSettings incident_settings(const Config& c);

}  // namespace podmedic::app
