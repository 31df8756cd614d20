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
#include "core/log.h"
#include "core/parse.h"
#include "core/peer_errors.h"
#include "server/api.h"

namespace podmedic::app {

namespace net = boost::asio;
using std::chrono::duration_cast;
using std::chrono::seconds;

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

incidents::IncidentSettings incident_settings(const Config& c) {
  incidents::IncidentSettings s;
  s.cluster = c.cluster.name;
  s.resolve_after = duration_cast<seconds>(c.detect.resolve_after);
  s.renotify_after = duration_cast<seconds>(c.detect.renotify_after);
  s.flap_hold_down = duration_cast<seconds>(c.detect.flap_hold_down);
  s.sink_confirms_alerts = true;  // the AlertHold holds alerts for the diagnosis
  return s;
}

diagnosis::LlmSettings llm_settings(const Config& c) {
  diagnosis::LlmSettings llm;
  llm.url = c.ollama.url;
  llm.model = c.ollama.model;
  llm.timeout = c.ollama.timeout;
  llm.openai_compatible = c.ollama.api == "openai";
  llm.stream = c.ollama.stream;
  llm.num_ctx = c.ollama.num_ctx;
  llm.num_predict = c.ollama.num_predict;
  return llm;
}

ClusterView::ClusterView(const Config& config, std::shared_ptr<prometheus::Registry> r)
    : registry(r ? std::move(r) : std::make_shared<prometheus::Registry>()),
      metrics(*registry),
      pods(interner, &metrics),
      events(interner, config.watch.event_limits, &metrics),
      redactor(std::move(diagnosis::Redactor::create(config.diagnosis.redact_patterns).value())),
      facts(pods, events, interner, [this](std::string_view text) { return redactor.seal(text); }) {
}

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   ClusterView& view, incidents::IncidentSink& sink, const Clock& clock,
                   PipelineOptions options)
    : Pipeline(ioc, config, std::move(connection), nullptr, &view, sink, clock,
               std::move(options)) {}

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options)
    : Pipeline(ioc, config, std::move(connection),
               std::make_unique<ClusterView>(config, options.registry), nullptr, sink, clock,
               options) {}

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   std::unique_ptr<ClusterView> own_view, ClusterView* view,
                   incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options)
    : own_view_(std::move(own_view)),
      view_(view ? *view : *own_view_),
      ioc_(ioc),
      options_(options),
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
      sink_(sink),
      scheduler_(ioc, tasks_),
      ledger_(tracker_),
      stage_(
          hold_settings(config), sink, ledger_, scheduler_,
          [this](const std::string& fp, const std::string& ns, const std::string& pod,
                 bool opening) {
            diagnoser_->submit({fp, ns, pod, opening});
          },
          [this] { snapshot_soon(); }),
      redactor_(view_.redactor),
      llm_enabled_(config.diagnosis.enabled),
      tracker_(
          [&] {
            auto s = incident_settings(config);
            s.redact = [this](std::string_view text) { return redactor_.seal(text); };
            return s;
          }(),
          clock, stage_, &state_, &incident_metrics_),
      tasks_(ioc) {
  assert(!options.registry || options.registry == registry_);
  if (options_.writer) {
    // State writes leave the pipeline thread; their completions come back to it.
    tracker_.use_group_commit(*options_.writer,
                              [&ioc](std::function<void()> f) { net::post(ioc, std::move(f)); });
  }
  prometheus::BuildGauge()
      .Name("podmedic_build_info")
      .Help("podmedic build information (always 1)")
      .Register(*registry_)
      .Add({{"version", PODMEDIC_VERSION}})
      .Set(1);
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
      [this] {
        std::lock_guard lock(snapshot_mu_);
        return snapshot_;
      },
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
        return options_.notifier_state_error ? options_.notifier_state_error() : std::string();
      }};
  // The pod cache answers for a namespace once synced, when the watch holds all its pods.
  diagnosis::EvidenceCache cache{&pods_, [this, watch = config.watch](const std::string& ns) {
                                   return watcher_->synced() && watch.label_selector.empty() &&
                                          in_watch_scope(watch, ns);
                                 }};
  evidence_ = std::make_unique<diagnosis::EvidenceSource>(
      *client_, interner_, detector_,
      diagnosis::LogBudget{config.diagnosis.fetch_bytes, config.diagnosis.max_bytes},
      std::move(cache));
  auto llm_client = options_.llm ? options_.llm
                                 : std::make_shared<diagnosis::HttpLlmClient>(llm_settings(config),
                                                                              &peer_errors_);
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
        stage_.diagnosis_ready(o.fingerprint, o.pod, o.answer.ok(), text, model);
      });
  diagnoser_->on_evidence(
      [this](const diagnosis::DiagnosisRequest& r, const diagnosis::GatheredEvidence& ev) {
        stage_.evidence_ready(r.fingerprint, r.pod, ev.excerpt);
      });
  for (const auto& reason : config.detect.rules.reasons)
    incident_metrics_.total.Add({{"reason", reason}});
  server::ServerSettings http_settings;
  http_settings.listen = config.server.listen;
  http_settings.max_connections = static_cast<std::size_t>(config.server.max_connections);
  http_settings.idle_timeout = config.server.idle_timeout;
  max_connections_ = http_settings.max_connections;
  http_ = std::make_unique<server::HttpServer>(
      http_ioc_, http_settings, server::make_api(std::move(api), config.server.token));
  if (config.ha.enabled) {
    leading_ = false;  // until elected; followers keep warm caches and serve the API
    auto lease = ha::leader_settings(config.ha, ha::process_environment());
    ha::MirrorHooks hooks;
    hooks.outbox_snapshot = options_.outbox_snapshot;
    hooks.adopt_outbox = options_.adopt_outbox;
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
  if (leading_) tracker_.flush();
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
  refresh_snapshot();
  log::info("leader", "took over", {{"open", tracker_.open_count()}});
}

void Pipeline::snapshot_soon() {
  // Once per burst (a tick resolving a thousand incidents is a thousand events), right after the
  // work at hand, not once per event.
  if (snapshot_queued_) return;
  snapshot_queued_ = true;
  tasks_.spawn("snapshot", rebuild_snapshot());
}

net::awaitable<void> Pipeline::rebuild_snapshot() {
  snapshot_queued_ = false;
  refresh_snapshot();
  co_return;
}

void Pipeline::refresh_snapshot() {
  // Open incidents, then the 100 most recently resolved.
  nlohmann::json list = nlohmann::json::array();
  std::size_t resolved = 0;
  for (const auto* inc : tracker_.incidents()) {
    if (!inc->open() && ++resolved > 100) break;
    list.push_back(incidents::api_json(*inc, view_.facts.describe(*inc)));
  }
  auto body = std::make_shared<const std::string>(parse::dump(list));
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = std::move(body);
}

Result<Ok> reserve_descriptors(std::size_t max_connections) {
  const std::size_t need = max_connections + kReservedDescriptors;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return Ok{};  // unknown: nothing to adjust
  auto fits = [need](rlim_t limit) {
    return limit == RLIM_INFINITY || static_cast<std::uint64_t>(limit) >= need;
  };
  if (fits(rl.rlim_cur)) return Ok{};
  if (!fits(rl.rlim_max)) {
    auto hard = static_cast<std::size_t>(rl.rlim_max);
    return Error{"server.maxConnections " + std::to_string(max_connections) + " needs " +
                 std::to_string(need) + " file descriptors (plus " +
                 std::to_string(kReservedDescriptors) +
                 " for the watches, notifiers, LLM and state files) but the open files limit "
                 "(RLIMIT_NOFILE, ulimit -n) is " +
                 std::to_string(hard) + "; set server.maxConnections to at most " +
                 std::to_string(hard > kReservedDescriptors ? hard - kReservedDescriptors : 0) +
                 " or raise the limit"};
  }
  const auto was = rl.rlim_cur;
  rl.rlim_cur = static_cast<rlim_t>(need);
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return Error{"cannot raise the open files limit (RLIMIT_NOFILE) from " + std::to_string(was) +
                 " to " + std::to_string(need) + " for server.maxConnections " +
                 std::to_string(max_connections)};
  log::info("app", "raised the open files limit for server.maxConnections",
            {{"from", static_cast<std::uint64_t>(was)},
             {"to", need},
             {"max_connections", max_connections}});
  return Ok{};
}

Result<Ok> Pipeline::start() {
  if (auto r = reserve_descriptors(max_connections_); !r.ok()) return r;
  if (auto r = state_.prepare(); !r.ok()) return r;
  if (!elector_) tracker_.load();  // with HA, the state comes with the leadership
  auto port = http_->start(http_tasks_);
  if (!port.ok()) return port.error();
  http_port_ = port.value();
  refresh_snapshot();
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
  return Ok{};
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
    synced_flag_ = watcher_->synced();
    refresh_snapshot();
  }
}

}  // namespace podmedic::app
