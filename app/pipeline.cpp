#include "app/pipeline.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cassert>

#include <sys/resource.h>
#include <unistd.h>

#include "app/llm_routes.h"
#include "app/mcp_tools.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/peer_errors.h"
#include "core/process_metrics.h"
#include "server/api.h"
#include "server/limits.h"
#include "server/mcp.h"

namespace podmedic::app {

namespace net = boost::asio;

namespace {

alerting::HoldSettings hold_settings(const Config& c) {
  alerting::HoldSettings s;
  // Without the LLM, the alert still waits a little for its key log lines.
  s.wait = c.diagnosis.enabled ? std::chrono::milliseconds(c.diagnosis.wait_before_notify)
                               : std::min(std::chrono::milliseconds(c.diagnosis.wait_before_notify),
                                          std::chrono::milliseconds(5000));
  return s;
}

}  // namespace

ClusterView::ClusterView(const Config& config, std::shared_ptr<prometheus::Registry> r)
    : registry(r ? std::move(r) : std::make_shared<prometheus::Registry>()),
      metrics(*registry),
      pods(interner, &metrics),
      events(interner, config.watch.event_limits, &metrics),
      redactor(std::move(diagnosis::Redactor::create(config.diagnosis.redact_patterns).value())),
      facts(pods, events, interner, [this](std::string_view text) { return redactor.seal(text); }) {
}

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   Output output, const Clock& clock, PipelineOptions options)
    : Pipeline(ioc, config, std::move(connection), nullptr, output, clock, std::move(options)) {}

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options)
    : Pipeline(ioc, config, std::move(connection), &sink, Output::kLogAndNotifiers, clock,
               std::move(options)) {}

namespace {
notifiers::DispatcherSettings dispatcher_settings(const StateSettings& state) {
  notifiers::DispatcherSettings ds;
  ds.state_dir = state.dir;
  ds.outbox_max_age = state.outbox_max_age;
  return ds;
}

}  // namespace

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   incidents::IncidentSink* sink, Output output, const Clock& clock,
                   PipelineOptions options)
    : ioc_(ioc),
      options_(options),
      own_writer_(options.writer ? nullptr : std::make_unique<GroupCommit>()),
      writer_(options.writer ? *options.writer : *own_writer_),
      view_(config, options.registry),
      registry_(view_.registry),
      metrics_(view_.metrics),
      peer_errors_(*registry_),
      incident_metrics_(*registry_),
      interner_(view_.interner),
      pods_(view_.pods),
      events_(view_.events),
      client_(std::make_unique<k8s::KubeClient>(ioc.get_executor(), std::move(connection),
                                                &peer_errors_)),
      watcher_(
          std::make_unique<watcher::Watcher>(*client_, config.watch, pods_, events_, metrics_)),
      detector_(interner_, config.detect.rules),
      state_(config.state.dir),
      dispatcher_(!sink && output == Output::kLogAndNotifiers
                      ? std::make_unique<notifiers::Dispatcher>(
                            dispatcher_settings(config.state),
                            notifiers::make_notifiers(config.notifiers, config.state.dir,
                                                      config.server.external_url, clock),
                            [&facts = view_.facts](const incidents::Incident& i) {
                              return facts.describe(i);
                            },
                            registry_.get(), clock, &writer_)
                      : nullptr),
      console_(sink ? nullptr
                    : std::make_unique<notifiers::ConsoleNotifier>(
                          output == Output::kConsole ? notifiers::ConsoleNotifier::Mode::kConsole
                                                     : notifiers::ConsoleNotifier::Mode::kLog,
                          view_.facts, dispatcher_.get())),
      sink_(sink ? *sink : *console_),
      scheduler_(ioc, tasks_),
      ledger_(tracker_),
      stage_(
          hold_settings(config), sink_, ledger_, scheduler_,
          [this](const std::string& fp, const std::string& ns, const std::string& pod,
                 bool opening) {
            diagnoser_->submit({fp, ns, pod, opening});
          },
          [this] { snapshot_.soon(); }),
      redactor_(view_.redactor),
      llm_enabled_(config.diagnosis.enabled),
      tracker_(
          [&] {
            auto s = incidents::tracker_settings(config.detect, config.cluster.name);
            s.redact = [this](std::string_view text) { return redactor_.seal(text); };
            return s;
          }(),
          clock, stage_, &state_, &incident_metrics_),
      snapshot_(tracker_, view_.facts, tasks_),
      tasks_(ioc) {
  // State writes leave the pipeline thread; their completions come back to it.
  tracker_.use_group_commit(writer_,
                            [&ioc](std::function<void()> f) { net::post(ioc, std::move(f)); });
  prometheus::BuildGauge()
      .Name("podmedic_build_info")
      .Help("podmedic build information (always 1)")
      .Register(*registry_)
      .Add({{"version", PODMEDIC_VERSION}})
      .Set(1);
  // Set by the tick loop (run_ticks); read by the HTTP thread at scrape time (atomics).
  leader_gauge_ = &prometheus::BuildGauge()
                       .Name("podmedic_leader")
                       .Help("1 while this replica leads (always 1 without ha.enabled)")
                       .Register(*registry_)
                       .Add({});
  synced_gauge_ = &prometheus::BuildGauge()
                       .Name("podmedic_synced")
                       .Help("1 once the first full list of pods and events has synced")
                       .Register(*registry_)
                       .Add({});
  // These run on the HTTP thread: only atomics, the snapshot under its mutex, the (thread-safe)
  // registry, and hops onto the pipeline's io_context.
  auto on_pipeline =
      [this](net::awaitable<server::Response> op) -> net::awaitable<server::Response> {
    // The route's end as a value: a route cut short when podmedic stops (its coroutine
    // cancelled or destroyed with the pipeline's io_context) answers 503, never an exception
    // through the HTTP server.
    auto hop = net::co_spawn(ioc_, std::move(op), net::as_tuple(net::use_awaitable));
    auto [error, response] = co_await std::move(hop);
    if (error) co_return server::json_error(503, "podmedic is stopping");
    co_return response;
  };
  server::ApiSources api{
      [this] { return synced_flag_.load(); },
      [this] { return snapshot_.get(); },
      registry_,
      [this, on_pipeline](std::string q) { return on_pipeline(ask_route(*llm_, std::move(q))); },
      [this, on_pipeline](std::string q, std::string ns, std::string pod) {
        return on_pipeline(diagnose_route(*llm_, std::move(q), std::move(ns), std::move(pod)));
      },
      [this, on_pipeline] { return on_pipeline(models_route(*llm_)); },
      // A copy: called on the HTTP thread.
      [watch = config.watch](const std::string& ns) { return in_watch_scope(watch, ns); },
      [this] {
        // Both reads are safe from the HTTP thread (an atomic / the dispatcher's lock).
        if (!tracker_.state_ok())
          return std::string("cannot write the incident state under state.dir");
        return dispatcher_ && !dispatcher_->state_ok() ? dispatcher_->state_error() : std::string();
      },
  };
  api.collectables = {std::make_shared<ProcessCollector>()};
  api.cluster = config.cluster.name;
  // The pod cache answers for a namespace once synced, when the watch holds all its pods.
  diagnosis::EvidenceCache cache{&pods_, [this, watch = config.watch](const std::string& ns) {
                                   return watcher_->synced() && watch.label_selector.empty() &&
                                          in_watch_scope(watch, ns);
                                 }};
  evidence_ = std::make_unique<diagnosis::EvidenceSource>(
      *client_, interner_, detector_,
      diagnosis::LogBudget{config.diagnosis.fetch_bytes, config.diagnosis.max_bytes},
      std::move(cache), fact_settings(config));
  auto llm_client = options_.llm ? options_.llm
                                 : std::make_shared<diagnosis::HttpLlmClient>(
                                       diagnosis::llm_settings(config.ollama), &peer_errors_);
  llm_ = std::make_unique<diagnosis::LlmService>(
      std::move(llm_client), redactor_, *evidence_, *registry_,
      diagnosis::LlmServiceSettings{static_cast<std::size_t>(config.diagnosis.concurrency),
                                    config.diagnosis.mask_names});
  diagnosis::DiagnoserSettings ds;
  ds.llm_concurrency = static_cast<std::size_t>(config.diagnosis.concurrency);
  ds.queue_capacity = static_cast<std::size_t>(config.diagnosis.queue_size);
  ds.ask_llm = config.diagnosis.enabled;
  diagnoser_ = std::make_unique<diagnosis::Diagnoser>(
      tasks_, config.ollama.model, ds,
      [this](const std::string& ns, const std::string& pod) { return llm_->gather(ns, pod); },
      [this](diagnosis::GatheredEvidence ev) { return llm_->explain(std::move(ev)); },
      [this](const diagnosis::DiagnosisOutcome& o) {
        Redacted text = llm_->delivered(o);
        std::string model = o.answer.ok() ? o.answer->model : std::string();
        if (alerting::AlertIntake::ours(o.fingerprint))
          return intake_->diagnosis_ready(o.fingerprint, o.answer.ok(), text, model,
                                          std::string_view(o.outcome) == "dropped");
        const std::string_view outcome(o.outcome);
        stage_.diagnosis_ready(o.fingerprint, o.pod, o.answer.ok(), text, model,
                               outcome == "llm_error" || outcome == "dropped");
      });
  diagnoser_->on_evidence(
      [this](const diagnosis::DiagnosisRequest& r, const diagnosis::GatheredEvidence& ev) {
        if (alerting::AlertIntake::ours(r.fingerprint))
          return intake_->evidence_ready(r.fingerprint, ev.excerpt);
        std::vector<incidents::Change> changes;
        for (const auto& c : ev.changes) changes.push_back({c.field, c.container, c.from, c.to});
        stage_.evidence_ready(r.fingerprint, r.pod, ev.excerpt, changes);
      });
  intake_ = std::make_unique<alerting::AlertIntake>(
      config.cluster.name,
      alerting::AlertIntakeIo{
          [this](const std::string& ns, const std::string& pod) -> const incidents::Incident* {
            for (const auto* i : tracker_.incidents()) {
              if (i->open() && i->ns == ns && i->pods.count(pod)) return i;
            }
            return nullptr;
          },
          [this](const std::string& key, const std::string& ns, const std::string& pod) {
            return diagnoser_->submit({key, ns, pod, false});
          },
          [this](const incidents::AlertDiagnosis& d) {
            if (dispatcher_) dispatcher_->on_alert_diagnosed(d);
            snapshot_.soon();
          },
          [this](const incidents::Incident& i) { return view_.facts.describe(i); },
          [this](std::string_view text) { return redactor_.seal(text); }},
      clock, registry_.get());
  snapshot_.also_list([this](nlohmann::json& list) { intake_->list(list); });
  // Called on the HTTP thread: the alerts hop onto the pipeline's.
  api.alertmanager = [this](std::vector<server::AmAlert> alerts) {
    std::vector<alerting::IncomingAlert> in;
    for (auto& a : alerts) {
      in.push_back({std::move(a.fingerprint), std::move(a.starts_at), a.starts_unix,
                    a.label("namespace"), a.label("pod"), std::move(a.labels)});
    }
    net::post(ioc_, [this, in = std::move(in)]() mutable { intake_->take(std::move(in)); });
  };
  api.peer_errors = &peer_errors_;
  for (const auto& reason : config.detect.rules.reasons) {
    incident_metrics_.total.Add({{"reason", reason}});
    incident_metrics_.open_reason(reason);
  }
  server::ServerSettings http_settings;
  http_settings.listen = config.server.listen;
  http_settings.max_connections = static_cast<std::size_t>(config.server.max_connections);
  http_settings.idle_timeout = config.server.idle_timeout;
  http_settings.route_body_limits = {{server::kAlertmanagerRoute, server::kAlertmanagerBodyLimit}};
  max_connections_ = http_settings.max_connections;
  server::mcp::McpSources mcp;
  mcp.incidents = [this] { return snapshot_.get(); };
  mcp.diagnose = [this](std::string q, std::string ns, std::string pod,
                        server::mcp::Deadline deadline) {
    return run_on(
        ioc_, mcp_diagnose(*llm_, tasks_, std::move(q), std::move(ns), std::move(pod), deadline));
  };
  mcp.ask = [this](std::string q, server::mcp::Deadline deadline) {
    return run_on(ioc_, mcp_ask(*llm_, tasks_, std::move(q), deadline));
  };
  mcp.namespace_allowed = [watch = config.watch](const std::string& ns) {
    return in_watch_scope(watch, ns);
  };
  mcp.external_url = config.server.external_url;
  mcp.tool_budget = options_.mcp_tool_budget;
  api.mcp = server::mcp::make_handler(std::move(mcp));
  http_ = std::make_unique<server::HttpServer>(
      http_ioc_, http_settings, server::make_api(std::move(api), config.server.token));
  if (config.ha.enabled) {
    leading_ = false;  // until elected; followers keep warm caches and serve the API
    auto lease = ha::leader_settings(config.ha, ha::process_environment());
    ha::MirrorHooks hooks;
    if (dispatcher_) {
      // The undelivered messages move with leadership too.
      hooks.outbox_snapshot = [this] { return dispatcher_->outbox_snapshot(); };
      hooks.adopt_outbox = [this](const nlohmann::json& j) { return dispatcher_->adopt(j); };
    }
    hooks.save_state = [this](const nlohmann::json& j) { return state_.save(j); };
    mirror_ = std::make_unique<ha::StateMirror>(*client_, ha::mirror_settings(lease),
                                                std::move(hooks), &peer_errors_);
    elector_ = std::make_unique<ha::LeaderElector>(
        *client_, lease, [this] { tasks_.spawn("take over", take_over()); },
        [this] {
          leading_ = false;
          mirror_->stop();
          if (options_.stop_on_lost_leadership) ioc_.stop();
        },
        &peer_errors_);
    tracker_.on_persist = [this](const nlohmann::json& j) { mirror_->state_saved(j); };
  }
  pods_.set_listener(
      [this](k8s::WatchType type, const k8s::PodView* before, const k8s::PodView* after) {
        if (!leading_) return;  // a follower: caches only
        if (type == k8s::WatchType::kDeleted) {
          tracker_.pod_gone(std::string(interner_.view(before->ns)), before->name);
          return;
        }
        tracker_.observe(*after, detector_.current(*after), interner_, pods_.received_at);
      });
}

Pipeline::~Pipeline() {
  // LLM calls in flight (a hung server) end within http::kCancelLatency instead of holding the
  // service's threads, and with them the shutdown, until ollama.timeout. Its threads post their
  // results back with a work guard on the io_context they came from: joined now, while those
  // io_contexts still exist (http_ioc_ is a member destroyed before llm_).
  if (llm_) llm_->shutdown();
  // The HTTP thread first; its coroutines are drained after the pipeline's (http_tasks_ is
  // destroyed after tasks_), so an LLM route waiting on the pipeline completes or is cancelled.
  http_ioc_.stop();
  if (http_thread_.joinable()) http_thread_.join();
  tasks_.stop();
  stop();
}

void Pipeline::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (leading_) tracker_.flush();
  if (dispatcher_) dispatcher_->stop();  // what is still undelivered stays in the outbox
}

net::awaitable<void> Pipeline::take_over() {
  // The state the previous leader mirrored (if any) becomes ours before anything is announced.
  auto adopt = mirror_->take_over();
  co_await std::move(adopt);
  tracker_.clear();
  tracker_.load();
  leading_ = true;
  // The pods already cached: incidents the previous leader announced stay silent, new failures
  // are announced now.
  pods_.for_each([this](const k8s::PodView& pod) {
    tracker_.observe(pod, detector_.current(pod), interner_);
  });
  if (watcher_->synced()) {
    reconciled_ = true;
    tracker_.reconcile([this](const std::string& ns, const std::string& pod) {
      return pods_.find(ns, pod) != nullptr;
    });
  }
  snapshot_.refresh();
  resume_diagnoses();
  log::info("leader", "took over", {{"open", tracker_.open_count()}});
}

Result<Ok> Pipeline::start() {
  if (auto r = server::reserve_descriptors(max_connections_); !r.ok()) return r;
  if (auto r = state_.prepare(); !r.ok()) return r;
  if (!elector_) tracker_.load();  // with HA, the state comes with the leadership
  auto port = http_->start(http_tasks_);
  if (!port.ok()) return port.error();
  http_port_ = port.value();
  snapshot_.refresh();
  http_thread_ = std::thread([this] {
    // Below the watch path: under a flood of clients the kernel runs the pipeline first.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 5);
    auto guard = net::make_work_guard(http_ioc_);
    http_ioc_.run();
  });
  log::info("server", "http server listening", {{"port", http_port_}});
  watcher_->start(tasks_);
  tasks_.spawn("incident ticks", run_ticks());
  if (elector_) {
    tasks_.spawn("leader election", elector_->run());
    tasks_.spawn("state mirror", mirror_->run());
  }
  if (llm_enabled_) tasks_.spawn("model check", llm_->check_model());
  if (dispatcher_) {
    if (auto r = dispatcher_->start(); !r.ok())
      return Error{"cannot start the notifiers: " + r.error().message};
  }
  if (!elector_) resume_diagnoses();
  return Ok{};
}

void Pipeline::resume_diagnoses() {
  if (!llm_enabled_) return;
  // Open incidents announced without a diagnosis before the restart: it still follows. The
  // newest kMaxResumed (incidents() lists the open ones first, newest first); the diagnoser's
  // queue is bounded anyway.
  constexpr std::size_t kMaxResumed = 32;
  std::size_t n = 0;
  for (const auto* inc : tracker_.incidents()) {
    if (!inc->open() || n++ >= kMaxResumed) break;
    stage_.resume(*inc);
  }
}

net::awaitable<void> Pipeline::run_ticks() {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  for (;;) {
    // Until the first sync, look often: /readyz should turn 200 promptly.
    timer.expires_after(synced_flag_ ? options_.tick
                                     : std::min(options_.tick, std::chrono::milliseconds(20)));
    auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
    auto [ec] = co_await std::move(wait);
    if (ec) co_return;
    if (!leading_) {
      synced_flag_ = watcher_->synced();
      publish_status();
      continue;
    }
    if (!reconciled_ && watcher_->synced()) {
      // Incidents restored from state whose pods vanished while podmedic was down.
      reconciled_ = true;
      tracker_.reconcile([this](const std::string& ns, const std::string& pod) {
        return pods_.find(ns, pod) != nullptr;
      });
    }
    tracker_.tick();
    if (dispatcher_) dispatcher_->resend(tracker_.incidents());  // Alertmanager's re-posts
    synced_flag_ = watcher_->synced();
    publish_status();
    snapshot_.refresh();
  }
}

void Pipeline::publish_status() {
  leader_gauge_->Set(leading_ ? 1 : 0);
  synced_gauge_->Set(synced_flag_ ? 1 : 0);
}

}  // namespace podmedic::app
