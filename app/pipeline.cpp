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

#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "core/parse.h"
#include "core/peer_errors.h"
#include "server/api.h"

namespace podmedic::app {

namespace net = boost::asio;
using std::chrono::duration_cast;
using std::chrono::seconds;

namespace {

// Runs blocking `f` on `pool`; the awaiting coroutine resumes on its own executor with f's
// result. A plain post to the pool and one back, not co_spawn: a coroutine co_spawned on the pool
// whose awaiter was cancelled (TaskGroup::stop) throws operation_aborted from co_spawn's own
// final hop, on the pool thread, where nothing can catch it (std::terminate at shutdown).
// Cancelling the awaiter does not abort `f`; the LLM client's cancel_all() does.
template <class F>
net::awaitable<std::invoke_result_t<F>> on_pool(net::thread_pool& pool, F f) {
  using R = std::invoke_result_t<F>;
  auto home = co_await net::this_coro::executor;
  auto initiate = [&pool, home](auto handler, F fn) {
    net::post(pool, [handler = std::move(handler), fn = std::move(fn),
                     work = net::make_work_guard(home)]() mutable {
      R result = fn();
      auto back = work.get_executor();
      net::post(back, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    });
  };
  // Named before it is awaited: GCC 12 miscompiles temporaries with destructors inside co_await
  // expressions.
  auto op = net::async_initiate<decltype(net::use_awaitable), void(R)>(initiate, net::use_awaitable,
                                                                       std::move(f));
  co_return co_await std::move(op);
}

server::Response json_ok(const nlohmann::json& j) {
  return {200, "application/json", parse::dump(j), {}};
}

// metadata.resourceVersion of an object the API server returned; empty when unreadable.
std::string resource_version(const std::string& body) {
  auto j = parse::json_text(body, "object");
  const nlohmann::json* meta = j.ok() ? parse::get_object(*j, "metadata") : nullptr;
  return meta ? parse::string_or(*meta, "resourceVersion") : std::string();
}

server::Response busy() {
  auto r = server::json_error(429, "too many LLM requests in flight; retry later");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}
}  // namespace

incidents::IncidentSettings incident_settings(const Config& c) {
  incidents::IncidentSettings s;
  s.cluster = c.cluster.name;
  s.resolve_after = duration_cast<seconds>(c.detect.resolve_after);
  s.renotify_after = duration_cast<seconds>(c.detect.renotify_after);
  s.flap_hold_down = duration_cast<seconds>(c.detect.flap_hold_down);
  s.sink_confirms_alerts = true;  // the AlertStage holds alerts for the diagnosis
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

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options)
    : ioc_(ioc),
      options_(options),
      registry_(options.registry ? options.registry : std::make_shared<prometheus::Registry>()),
      metrics_(*registry_),
      peer_errors_(*registry_),
      incident_metrics_(*registry_),
      pods_(interner_, &metrics_),
      events_(interner_, config.watch.event_limits, &metrics_),
      client_(std::make_unique<k8s::KubeClient>(ioc.get_executor(), std::move(connection),
                                                &peer_errors_)),
      watcher_(
          std::make_unique<watcher::Watcher>(*client_, config.watch, pods_, events_, metrics_)),
      detector_(interner_, config.detect.rules),
      state_(config.state.dir),
      sink_(sink),
      stage_(*this, sink),
      redactor_(std::move(diagnosis::Redactor::create(config.diagnosis.redact_patterns).value())),
      llm_enabled_(config.diagnosis.enabled),
      mask_names_(config.diagnosis.mask_names),
      budget_{config.diagnosis.fetch_bytes, config.diagnosis.max_bytes},
      // Without the LLM, the alert still waits a little for its key log lines.
      hold_(config.diagnosis.enabled
                ? std::chrono::milliseconds(config.diagnosis.wait_before_notify)
                : std::min(std::chrono::milliseconds(config.diagnosis.wait_before_notify),
                           std::chrono::milliseconds(5000))),
      tracker_(
          [&] {
            auto s = incident_settings(config);
            s.redact = [this](std::string_view text) { return redactor_.seal(text); };
            return s;
          }(),
          clock, stage_, &state_, &incident_metrics_),
      tasks_(ioc) {
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
      registry_, [this, on_pipeline](std::string q) { return on_pipeline(ask(std::move(q))); },
      [this, on_pipeline](std::string q, std::string ns, std::string pod) {
        return on_pipeline(diagnose(std::move(q), std::move(ns), std::move(pod)));
      },
      [this, on_pipeline] { return on_pipeline(models()); },
      // A copy: called on the HTTP thread.
      [watch = config.watch](const std::string& ns) { return in_watch_scope(watch, ns); },
      [this] {
        // Both reads are safe from the HTTP thread (an atomic / the dispatcher's lock).
        if (!tracker_.state_ok())
          return std::string("cannot write the incident state under state.dir");
        return options_.notifier_state_error ? options_.notifier_state_error() : std::string();
      }};
  llm_ = std::make_shared<diagnosis::HttpLlmClient>(llm_settings(config), &peer_errors_);
  llm_pool_ = std::make_unique<net::thread_pool>(
      static_cast<std::size_t>(config.diagnosis.concurrency + 1));
  http_llm_pool_ = std::make_unique<net::thread_pool>(static_cast<std::size_t>(kMaxHttpLlm));
  diagnosis::DiagnoserSettings ds;
  ds.llm_concurrency = static_cast<std::size_t>(config.diagnosis.concurrency);
  ds.queue_capacity = static_cast<std::size_t>(config.diagnosis.queue_size);
  ds.ask_llm = config.diagnosis.enabled;
  diagnoser_ = std::make_unique<diagnosis::Diagnoser>(
      tasks_, config.ollama.model, ds,
      [this](const std::string& ns, const std::string& pod) { return gather(ns, pod); },
      [this](diagnosis::GatheredEvidence ev) { return explain(std::move(ev)); },
      [this](const diagnosis::DiagnosisOutcome& o) { diagnosed(o); });
  diagnoser_->on_evidence(
      [this](const diagnosis::DiagnosisRequest& r, const diagnosis::GatheredEvidence& ev) {
        stage_.evidence_ready(r.fingerprint, r.pod, ev.excerpt);
      });
  diagnoses_ = &prometheus::BuildCounter()
                    .Name("podmedic_diagnoses_total")
                    .Help(
                        "Diagnoses, by outcome: ok, cached (an identical one answered), "
                        "llm_error, no_evidence, dropped (queue full), not_found, busy")
                    .Register(*registry_);
  for (const char* outcome : {"ok", "cached", "llm_error"}) diagnoses_->Add({{"outcome", outcome}});
  for (const auto& reason : config.detect.rules.reasons)
    incident_metrics_.total.Add({{"reason", reason}});
  llm_duration_ = &prometheus::BuildHistogram()
                       .Name("podmedic_llm_request_duration_seconds")
                       .Help("LLM request duration")
                       .Register(*registry_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{0.5, 1, 2, 5, 10, 20, 30,
                                                                        60, 120, 300});
  server::ServerSettings http_settings;
  http_settings.listen = config.server.listen;
  http_settings.max_connections = static_cast<std::size_t>(config.server.max_connections);
  http_settings.idle_timeout = config.server.idle_timeout;
  max_connections_ = http_settings.max_connections;
  http_ = std::make_unique<server::HttpServer>(
      http_ioc_, http_settings, server::make_api(std::move(api), config.server.token));
  if (config.ha.enabled) {
    leading_ = false;  // until elected; followers keep warm caches and serve the API
    auto env = [](const char* name) {
      const char* v = std::getenv(name);
      return std::string(v ? v : "");
    };
    LeaderSettings ls;
    ls.name = config.ha.lease_name;
    ls.ns = !config.ha.lease_namespace.empty() ? config.ha.lease_namespace
            : !env("POD_NAMESPACE").empty()    ? env("POD_NAMESPACE")
                                               : "default";
    ls.identity = config.ha.identity;
    if (ls.identity.empty()) ls.identity = env("POD_NAME");
    if (ls.identity.empty()) {
      char host[256] = {};
      gethostname(host, sizeof host - 1);
      ls.identity = host;
    }
    ls.lease_duration = config.ha.lease_duration;
    ls.renew_deadline = config.ha.renew_deadline;
    ls.retry_period = config.ha.retry_period;
    ha_namespace_ = ls.ns;
    state_configmap_ = config.ha.lease_name + "-state";
    elector_ = std::make_unique<LeaderElector>(
        *client_, ls, [this] { tasks_.spawn("take over", take_over()); },
        [this] {
          leading_ = false;
          lost_leadership_ = true;
          if (options_.stop_on_lost_leadership) ioc_.stop();
        },
        &peer_errors_);
    tracker_.on_persist = [this](const nlohmann::json& j) {
      mirror_text_ = parse::dump(j);
      mirror_dirty_ = true;
    };
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
  // pool threads, and with them the shutdown, until ollama.timeout.
  if (llm_) llm_->cancel_all();
  // The pools' threads finish their (now cancelled) calls and post the results back, holding a
  // work guard on the io_context they came from: join them while those io_contexts still exist
  // (the pools are members declared before them, so destroyed after them).
  if (http_llm_pool_) http_llm_pool_->join();
  if (llm_pool_) llm_pool_->join();
  // The HTTP thread first; its coroutines are drained after the pipeline's (http_tasks_ is
  // destroyed after tasks_), so an LLM route waiting on the pipeline completes or is cancelled.
  http_ioc_.stop();
  if (http_thread_.joinable()) http_thread_.join();
  tasks_.stop();
  if (leading_) tracker_.flush();
}

std::string Pipeline::state_configmap_path(bool item) const {
  std::string p = "/api/v1/namespaces/" + k8s::url_encode(ha_namespace_) + "/configmaps";
  if (item) p += "/" + k8s::url_encode(state_configmap_);
  return p;
}

net::awaitable<void> Pipeline::take_over() {
  // The state the previous leader mirrored (if any) becomes ours before anything is announced.
  auto get_op = client_->get(state_configmap_path(true), 4u << 20, std::chrono::seconds(10));
  auto got = co_await std::move(get_op);
  if (got.ok() && got->status == 200) {
    // Written by another replica: every member is checked (a damaged ConfigMap means we start
    // from the local state, never an abort).
    auto cm = parse::json_text(got->body, "state ConfigMap");
    const nlohmann::json* data = cm.ok() ? parse::get_object(*cm, "data") : nullptr;
    if (!data) {
      peer_errors_.count(Peer::kApiServer, PeerFault::kMalformed);
      log::warn("leader",
                "the state ConfigMap has no readable data; continuing with the local state");
    }
    std::string text = data ? parse::string_or(*data, "incidents.json") : std::string();
    auto state = parse::json_text(text, "inherited state");
    if (state.ok() && state->is_object()) {
      if (auto r = state_.save(*state); !r.ok()) {
        log::error("leader", "cannot write the inherited state", {{"error", r.error().message}});
      }
      mirror_text_ = text;
    }
    // Messages the previous leader had not delivered yet: delivered by us, same delivery ids.
    std::string outbox = data ? parse::string_or(*data, "outbox.json") : std::string();
    auto pending = parse::json_text(outbox, "inherited outbox");
    if (pending.ok() && pending->is_object() && options_.adopt_outbox) {
      auto n = options_.adopt_outbox(*pending);
      if (n > 0) log::info("leader", "adopted undelivered messages", {{"messages", n}});
    }
  } else if (!got.ok() || got->status != 404) {
    log::warn("leader", "cannot read the state ConfigMap; continuing with the local state",
              {{"error", got.ok() ? std::to_string(got->status) : got.error().message}});
  }
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

net::awaitable<void> Pipeline::mirror_state() {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  log::RateLimited too_big;
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(100));
    auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
    auto [ec] = co_await std::move(wait);
    if (ec) co_return;
    if (!leading_) continue;
    std::string outbox =
        options_.outbox_snapshot ? parse::dump(options_.outbox_snapshot()) : std::string();
    if (outbox != mirrored_outbox_) mirror_dirty_ = true;
    if (!mirror_dirty_) continue;
    mirror_dirty_ = false;
    std::string text = mirror_text_;
    if (text.size() + outbox.size() > 900 * 1024) {
      too_big.write(log::Level::kError, "leader", "mirror",
                    "incident state too large for a ConfigMap; a failover may repeat alerts",
                    {{"bytes", text.size()}});
      continue;
    }
    nlohmann::json cm = {{"apiVersion", "v1"},
                         {"kind", "ConfigMap"},
                         {"metadata", {{"name", state_configmap_}, {"namespace", ha_namespace_}}},
                         {"data", nlohmann::json::object()}};
    if (!text.empty()) cm["data"]["incidents.json"] = text;
    if (!outbox.empty()) cm["data"]["outbox.json"] = outbox;
    // The resourceVersion of our last write: no GET before each PUT. Unknown (first write, or
    // after a conflict): read it first, or create the ConfigMap.
    if (mirror_rv_.empty()) {
      auto get_op = client_->get(state_configmap_path(true), 4u << 20, std::chrono::seconds(10));
      auto got = co_await std::move(get_op);
      if (got.ok() && got->status == 200) {
        mirror_rv_ = resource_version(got->body);
      } else if (!got.ok() || got->status != 404) {
        mirror_dirty_ = true;
        continue;
      }
    }
    Result<k8s::HttpResponse> put = Error{"not sent"};
    if (mirror_rv_.empty()) {
      auto op = client_->send("POST", state_configmap_path(false), parse::dump(cm), 1 << 20,
                              std::chrono::seconds(10));
      put = co_await std::move(op);
    } else {
      cm["metadata"]["resourceVersion"] = mirror_rv_;
      auto op = client_->send("PUT", state_configmap_path(true), parse::dump(cm), 1 << 20,
                              std::chrono::seconds(10));
      put = co_await std::move(op);
    }
    mirror_rv_.clear();
    if (put.ok() && (put->status == 200 || put->status == 201)) {
      mirror_rv_ = resource_version(put->body);
    }
    if (put.ok() && (put->status == 200 || put->status == 201)) {
      mirrored_outbox_ = outbox;
    } else {
      mirror_dirty_ = true;  // try again (a newer state may replace it meanwhile)
      static log::RateLimited rl;
      rl.write(log::Level::kWarn, "leader", "mirror-failed", "cannot mirror the incident state",
               {{"error", put.ok() ? std::to_string(put->status) : put.error().message}});
    }
  }
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
    auto j = incidents::to_json(*inc);
    j["facts"] = describe(*inc);
    list.push_back(std::move(j));
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
    tasks_.spawn("state mirror", mirror_state());
  }
  if (llm_enabled_) tasks_.spawn("model check", check_model());
  return Ok{};
}

net::awaitable<void> Pipeline::check_model() {
  auto llm = llm_;
  auto call = [llm] { return llm->models(); };
  auto list = co_await on_pool(*llm_pool_, std::move(call));
  const std::string& want = llm_->model();
  if (!list.ok()) {
    log::warn("diagnosis", "LLM server not reachable; alerts go out with rules-based facts only",
              {{"error", list.error().message}});
    co_return;
  }
  // Ollama names carry a tag ("mistral:latest"); the configured name may omit it.
  for (const auto& m : list.value()) {
    if (m == want || m == want + ":latest") {
      log::info("diagnosis", "LLM model available", {{"model", want}});
      co_return;
    }
  }
  log::warn("diagnosis",
            "LLM model not found on the server; run `ollama pull " + want +
                "` (alerts go out with rules-based facts until then)",
            {{"model", want}, {"available", list->size()}});
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

void AlertStage::on_incident_event(const incidents::IncidentEvent& e) {
  auto& p = pipeline_;
  p.snapshot_soon();  // the API shows what the notifiers are told
  switch (e.type) {
    case incidents::EventType::kOpened: {
      for (const auto* inc : e.incidents) {
        if (held_.count(inc->fingerprint)) continue;
        const std::string pod = inc->all_pods.empty() ? std::string() : inc->all_pods.front();
        if (p.hold_.count() == 0 || pod.empty()) {
          // Nothing to wait for.
          next_.on_incident_event({e.type, {inc}});
          p.tracker_.mark_alerted(inc->fingerprint);
          if (inc->diagnosis.empty()) followup_.insert(inc->fingerprint);
          continue;
        }
        // Copy: the tracker may move or resolve its record while we wait.
        Held h{*inc, pod, std::make_unique<net::steady_timer>(p.ioc_, p.hold_)};
        held_.emplace(inc->fingerprint, std::move(h));
        p.tasks_.spawn("alert hold", hold(inc->fingerprint));
        p.diagnoser_->submit({inc->fingerprint, inc->ns, pod, true});
      }
      return;
    }
    case incidents::EventType::kDigest:
      // A storm: one message now; the diagnoses land on the incidents, without follow-ups.
      next_.on_incident_event(e);
      for (const auto* inc : e.incidents) {
        p.tracker_.mark_alerted(inc->fingerprint);
        if (!inc->all_pods.empty())
          p.diagnoser_->submit({inc->fingerprint, inc->ns, inc->all_pods.front(), true});
      }
      return;
    case incidents::EventType::kResolved: {
      std::vector<const incidents::Incident*> now;
      for (const auto* inc : e.incidents) {
        followup_.erase(inc->fingerprint);
        if (held_.count(inc->fingerprint)) {
          held_resolved_[inc->fingerprint].push_back(*inc);  // goes out after its alert
        } else {
          now.push_back(inc);
        }
      }
      if (!now.empty()) next_.on_incident_event({e.type, now});
      return;
    }
    case incidents::EventType::kReminder:
    case incidents::EventType::kDiagnosed:
      next_.on_incident_event(e);
      return;
  }
}

void AlertStage::on_pod_joined(const incidents::Incident& inc, const std::string& pod) {
  pipeline_.diagnoser_->submit({inc.fingerprint, inc.ns, pod, false});
}

net::awaitable<void> AlertStage::hold(std::string fingerprint) {
  auto it = held_.find(fingerprint);
  if (it == held_.end()) co_return;
  auto* timer = it->second.timer.get();
  auto wait = timer->async_wait(net::as_tuple(net::use_awaitable));
  // The timer expires (the hold ends) or is cancelled early (all is in); either way the alert
  // goes out now, unless we are shutting down: then it stays pending in the state file and
  // the next start announces it, rather than handing it to notifiers that are stopping.
  co_await std::move(wait);
  auto cs = co_await net::this_coro::cancellation_state;
  if (cs.cancelled() != net::cancellation_type::none) co_return;
  auto h = held_.find(fingerprint);
  if (h == held_.end()) co_return;
  if (!h->second.answered) {
    log::info("diagnosis", "diagnosis not ready in time; alerting with the rules-based facts",
              {{"incident", h->second.inc.id}, {"evidence", h->second.evidence}});
  }
  release(fingerprint);
}

void AlertStage::release(const std::string& fingerprint) {
  auto it = held_.find(fingerprint);
  if (it == held_.end()) return;
  Held h = std::move(it->second);
  held_.erase(it);
  next_.on_incident_event({incidents::EventType::kOpened, {&h.inc}});
  pipeline_.tracker_.mark_alerted(fingerprint);
  if (h.inc.diagnosis.empty()) followup_.insert(fingerprint);
  auto held = held_resolved_.find(fingerprint);
  if (held == held_resolved_.end()) return;
  auto resolved = std::move(held->second);
  held_resolved_.erase(held);
  for (const auto& r : resolved) {
    followup_.erase(fingerprint);
    next_.on_incident_event({incidents::EventType::kResolved, {&r}});
  }
}

void AlertStage::evidence_ready(const std::string& fingerprint, const std::string& pod,
                                const Redacted& excerpt) {
  auto it = held_.find(fingerprint);
  if (it != held_.end() && it->second.pod == pod) {
    it->second.evidence = true;
    it->second.inc.evidence = excerpt;
  }
  if (const auto* inc = pipeline_.tracker_.find_open(fingerprint);
      inc && inc->evidence.empty() && !excerpt.empty()) {
    pipeline_.tracker_.set_evidence(fingerprint, excerpt);
  }
}

void AlertStage::diagnosis_ready(const std::string& fingerprint, const std::string& pod, bool ok,
                                 const Redacted& text, const std::string& model) {
  auto it = held_.find(fingerprint);
  if (it != held_.end()) {
    if (ok && it->second.inc.diagnosis.empty()) {
      it->second.inc.diagnosis = text;
      it->second.inc.diagnosis_model = model;
    }
    if (it->second.pod == pod || ok) {
      it->second.answered = true;
      it->second.timer->cancel();  // the alert goes out now, with what there is
    }
  }
  if (!ok) return;
  const auto* inc = pipeline_.tracker_.set_diagnosis(fingerprint, text, model);
  if (inc) pipeline_.snapshot_soon();
  if (inc && followup_.erase(fingerprint)) {
    // The alert went out without it: the explanation follows as its own message.
    next_.on_incident_event({incidents::EventType::kDiagnosed, {inc}});
  }
}

net::awaitable<Result<diagnosis::GatheredEvidence>> Pipeline::gather(std::string ns,
                                                                     std::string pod) {
  // One redaction session for everything this pod's evidence holds: a secret found in any of
  // its texts (logs as fetched, before selection; state messages; events) is masked in all,
  // and in the LLM's answer later.
  auto session = std::make_shared<diagnosis::RedactionSession>(redactor_);
  auto op = diagnosis::gather_pod(*client_, interner_, detector_, ns, pod, budget_, session);
  auto ev = co_await std::move(op);
  if (!ev.ok()) co_return ev.error();
  diagnosis::GatheredEvidence g;
  g.text = ev->text();  // redacted by the session
  g.session = ev->session;
  g.volatile_names.push_back(pod);
  std::string container;
  if (!ev->findings.empty())
    container = std::string(interner_.view(ev->findings.front().container));
  g.excerpt = key_evidence(ev.value(), container);
  const auto* view = pods_.find(ns, pod);
  if (view && view->node) g.volatile_names.emplace_back(interner_.view(view->node));
  if (mask_names_) {
    diagnosis::NameMasker m;
    m.add(pod, "pod");
    m.add(ns, "namespace");
    if (view) {
      auto w = incidents::resolve_workload(*view, interner_);
      m.add(w.name, "workload");
      if (view->node) m.add(std::string(interner_.view(view->node)), "node");
    }
    g.masks = m.pairs();
  }
  co_return g;
}

net::awaitable<Result<diagnosis::LlmAnswer>> Pipeline::explain(diagnosis::GatheredEvidence ev) {
  std::string evidence = diagnosis::replace_all_longest_first(ev.text, ev.masks);
  auto op = llm_chat(*llm_pool_, diagnosis::kDiagnoseSystemPrompt,
                     diagnosis::diagnose_user_prompt("", evidence));
  auto answer = co_await std::move(op);
  if (answer.ok() && !ev.masks.empty()) {
    std::vector<std::pair<std::string, std::string>> back;
    for (const auto& [name, placeholder] : ev.masks) back.emplace_back(placeholder, name);
    answer->text = diagnosis::replace_all_longest_first(answer->text, back);
  }
  if (answer.ok() && ev.session) answer->text = ev.session->redact(answer->text);
  co_return answer;
}

void Pipeline::diagnosed(const diagnosis::DiagnosisOutcome& o) {
  // llm_error is counted by llm_chat (for the HTTP routes too); "disabled" is not a diagnosis.
  const std::string_view outcome = o.outcome;
  if (outcome != "llm_error" && outcome != "disabled")
    diagnoses_->Add({{"outcome", o.outcome}}).Increment();
  if (!o.answer.ok()) {
    log::debug("diagnosis", "no diagnosis",
               {{"pod", o.pod}, {"outcome", o.outcome}, {"error", o.answer.error().message}});
  }
  Redacted text = o.answer.ok() ? redactor_.seal(o.answer->text) : Redacted();
  std::string model = o.answer.ok() ? o.answer->model : std::string();
  stage_.diagnosis_ready(o.fingerprint, o.pod, o.answer.ok(), text, model);
}

Redacted Pipeline::key_evidence(const diagnosis::Evidence& ev, const std::string& container) const {
  constexpr std::size_t kMax = 1800;
  std::string logs;
  for (const auto& l : ev.logs) {
    if (l.container == container) logs = !l.previous.empty() ? l.previous : l.current;
  }
  if (logs.size() > kMax) {
    // The end matters most (the crash): cut at a line start.
    auto cut = logs.find('\n', logs.size() - kMax);
    logs = "[…]\n" + logs.substr(cut == std::string::npos ? logs.size() - kMax : cut + 1);
  }
  std::string out = logs;
  for (std::size_t i = 0; i < ev.events.size() && i < 3; ++i) {
    out += (i == 0 ? "Events:\n" : "") + ev.events[i] + "\n";
  }
  return redactor_.seal(out);
}

net::awaitable<Result<diagnosis::LlmAnswer>> Pipeline::llm_chat(net::thread_pool& pool,
                                                                const char* system,
                                                                std::string user) {
  auto llm = llm_;
  auto t0 = std::chrono::steady_clock::now();
  auto call = [llm, system, user] { return llm->chat(system, user); };
  auto answer = co_await on_pool(pool, std::move(call));
  llm_duration_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!answer.ok()) diagnoses_->Add({{"outcome", "llm_error"}}).Increment();
  co_return answer;
}

bool Pipeline::llm_busy() {
  if (http_llm_inflight_ < kMaxHttpLlm) return false;
  diagnoses_->Add({{"outcome", "busy"}}).Increment();
  return true;
}

namespace {
struct Counted {
  int& n;
  explicit Counted(int& c) : n(c) { ++n; }
  ~Counted() { --n; }
};
}  // namespace

net::awaitable<server::Response> Pipeline::ask(std::string question) {
  if (llm_busy()) co_return busy();
  Counted inflight(http_llm_inflight_);
  // Nothing leaves unredacted, questions included.
  auto answer =
      co_await llm_chat(*http_llm_pool_, diagnosis::kAskSystemPrompt, redactor_.redact(question));
  if (!answer.ok()) co_return server::json_error(503, answer.error().message);
  diagnoses_->Add({{"outcome", "ok"}}).Increment();
  co_return json_ok({{"answer", redactor_.redact(answer->text)}, {"model", answer->model}});
}

net::awaitable<server::Response> Pipeline::diagnose(std::string question, std::string ns,
                                                    std::string pod) {
  if (llm_busy()) co_return busy();
  Counted inflight(http_llm_inflight_);
  std::vector<std::string> pods;
  if (!pod.empty()) {
    pods.push_back(pod);
  } else {
    auto failing = co_await diagnosis::failing_pods(*client_, interner_, detector_, ns, 2);
    if (!failing.ok())
      co_return server::json_error(502, "cannot list pods: " + failing.error().message);
    pods = failing.value();
  }
  std::string context;
  nlohmann::json facts = nlohmann::json::array();
  // One session for the whole answer: secrets found in any pod's texts are masked everywhere,
  // the LLM's answer included.
  auto session = std::make_shared<diagnosis::RedactionSession>(redactor_);
  for (const auto& p : pods) {
    auto ev =
        co_await diagnosis::gather_pod(*client_, interner_, detector_, ns, p, budget_, session);
    if (!ev.ok()) {
      diagnoses_->Add({{"outcome", "not_found"}}).Increment();
      co_return server::json_error(ev.error().message.find("404") != std::string::npos ? 404 : 502,
                                   ev.error().message);
    }
    context += ev->text() + "\n";
    for (const auto& f : ev->findings_text) facts.push_back(session->redact(p + ": " + f));
  }
  if (pods.empty()) context = "No pod in namespace " + ns + " is failing right now.\n";
  context = session->redact(context);
  std::string user = diagnosis::diagnose_user_prompt(session->redact(question), context);
  auto answer =
      co_await llm_chat(*http_llm_pool_, diagnosis::kDiagnoseSystemPrompt, std::move(user));
  if (!answer.ok()) {
    // The LLM is down or slow: still give the evidence and the rules-based facts.
    nlohmann::json j = {{"error", answer.error().message}, {"context", context}, {"facts", facts}};
    co_return server::Response{503, "application/json", parse::dump(j), {}};
  }
  diagnoses_->Add({{"outcome", "ok"}}).Increment();
  co_return json_ok(
      {{"answer", session->redact(answer->text)}, {"model", answer->model}, {"context", context}});
}

net::awaitable<server::Response> Pipeline::models() {
  if (llm_busy()) co_return busy();
  Counted inflight(http_llm_inflight_);
  auto llm = llm_;
  auto call = [llm] { return llm->models(); };
  auto list = co_await on_pool(*http_llm_pool_, std::move(call));
  if (!list.ok()) co_return server::json_error(503, list.error().message);
  co_return json_ok({{"models", list.value()}});
}

std::string Pipeline::describe(const incidents::Incident& inc) const {
  std::string s = "[" + inc.ns + "] " + inc.reason + " " + inc.workload.kind + "/" +
                  inc.workload.name + " container " + inc.container + ": " +
                  std::to_string(inc.all_pods.size()) +
                  (inc.all_pods.size() == 1 ? " pod" : " pods");
  if (inc.exit_code != 0)
    s += ", exit " + std::to_string(inc.exit_code) + " (" +
         rules::exit_code_meaning(inc.exit_code) + ")";
  s += ", " + std::to_string(inc.restarts) + " restarts";
  // Container facts from any current pod of the incident.
  for (const auto& name : inc.all_pods) {
    const auto* pod = pods_.find(inc.ns, name);
    if (!pod) continue;
    for (const auto& c : pod->containers) {
      if (interner_.view(c.name) == inc.container)
        s += rules::container_facts(inc.reason, c, interner_);
    }
    auto evs = events_.for_pod(inc.ns, name);
    if (!evs.empty())
      s += " | " + std::string(interner_.view(evs.front()->reason)) + ": " +
           redactor_.redact(evs.front()->message).substr(0, 160);  // redact, then cut
    break;
  }
  return s;
}

}  // namespace podmedic::app
