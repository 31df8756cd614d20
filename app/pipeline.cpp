#include "app/pipeline.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"
#include "server/api.h"

namespace podmedic::app {

namespace net = boost::asio;
using std::chrono::duration_cast;
using std::chrono::seconds;

incidents::IncidentSettings incident_settings(const Config& c) {
  incidents::IncidentSettings s;
  s.cluster = c.cluster.name;
  s.resolve_after = duration_cast<seconds>(c.detect.resolve_after);
  s.renotify_after = duration_cast<seconds>(c.detect.renotify_after);
  s.flap_hold_down = duration_cast<seconds>(c.detect.flap_hold_down);
  return s;
}

Pipeline::Pipeline(net::io_context& ioc, const Config& config, k8s::ClusterConnection connection,
                   incidents::IncidentSink& sink, const Clock& clock, PipelineOptions options)
    : ioc_(ioc),
      options_(options),
      registry_(options.registry ? options.registry : std::make_shared<prometheus::Registry>()),
      metrics_(*registry_),
      incident_metrics_(*registry_),
      pods_(interner_, &metrics_),
      events_(interner_, config.watch.event_limits, &metrics_),
      client_(std::make_unique<k8s::KubeClient>(ioc.get_executor(), std::move(connection))),
      watcher_(
          std::make_unique<watcher::Watcher>(*client_, config.watch, pods_, events_, metrics_)),
      detector_(interner_, config.detect.rules),
      state_(config.state.dir),
      sink_(sink),
      stage_(*this, sink),
      redactor_(std::move(diagnosis::Redactor::create().value())),
      budget_{config.diagnosis.fetch_bytes, config.diagnosis.max_bytes},
      hold_(config.diagnosis.enabled
                ? std::min(std::chrono::milliseconds(config.diagnosis.wait_before_notify),
                           std::chrono::milliseconds(5000))
                : std::chrono::milliseconds(0)),
      tracker_(incident_settings(config), clock, stage_, &state_, &incident_metrics_),
      tasks_(ioc) {
  prometheus::BuildGauge()
      .Name("podmedic_build_info")
      .Help("podmedic build information (always 1)")
      .Register(*registry_)
      .Add({{"version", PODMEDIC_VERSION}})
      .Set(1);
  server::ApiSources api{[this] { return watcher_->synced(); },
                         [this] {
                           nlohmann::json list = nlohmann::json::array();
                           for (const auto* inc : tracker_.incidents()) {
                             auto j = incidents::to_json(*inc);
                             j["facts"] = describe(*inc);
                             list.push_back(std::move(j));
                           }
                           return list;
                         },
                         registry_,
                         [this](std::string q) { return ask(std::move(q)); },
                         [this](std::string q, std::string ns, std::string pod) {
                           return diagnose(std::move(q), std::move(ns), std::move(pod));
                         },
                         [this] { return models(); }};
  diagnosis::LlmSettings llm;
  llm.url = config.ollama.url;
  llm.model = config.ollama.model;
  llm.timeout = config.ollama.timeout;
  llm_ = std::make_shared<diagnosis::HttpLlmClient>(llm);
  diagnoses_ = &prometheus::BuildCounter()
                    .Name("podmedic_diagnoses_total")
                    .Help("Diagnoses requested, by outcome (ok, llm_error, not_found, busy)")
                    .Register(*registry_);
  llm_duration_ = &prometheus::BuildHistogram()
                       .Name("podmedic_llm_request_duration_seconds")
                       .Help("LLM request duration")
                       .Register(*registry_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{0.5, 1, 2, 5, 10, 20, 30,
                                                                        60, 120, 300});
  http_ =
      std::make_unique<server::HttpServer>(ioc, server::ServerSettings{config.server.listen},
                                           server::make_api(std::move(api), config.server.token));
  pods_.set_listener(
      [this](k8s::WatchType type, const k8s::PodView* before, const k8s::PodView* after) {
        if (type == k8s::WatchType::kDeleted) {
          tracker_.pod_gone(std::string(interner_.view(before->ns)), before->name);
          return;
        }
        tracker_.observe(*after, detector_.current(*after), interner_, pods_.received_at);
      });
}

Result<Ok> Pipeline::start() {
  if (auto r = state_.prepare(); !r.ok()) return r;
  tracker_.load();
  auto port = http_->start(tasks_);
  if (!port.ok()) return port.error();
  http_port_ = port.value();
  log::info("server", "http server listening", {{"port", http_port_}});
  watcher_->start(tasks_);
  tasks_.spawn("incident ticks", run_ticks());
  return Ok{};
}

net::awaitable<void> Pipeline::run_ticks() {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  for (;;) {
    timer.expires_after(options_.tick);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    if (!reconciled_ && watcher_->synced()) {
      // Incidents restored from state whose pods vanished while podmedic was down.
      reconciled_ = true;
      tracker_.reconcile([this](const std::string& ns, const std::string& pod) {
        return pods_.find(ns, pod) != nullptr;
      });
    }
    tracker_.tick();
  }
}

void EvidenceStage::on_incident_event(const incidents::IncidentEvent& e) {
  if (e.type == incidents::EventType::kOpened && pipeline_.hold_.count() > 0 &&
      e.incidents.size() == 1) {
    // Copy: the tracker may move or resolve its record while we gather.
    pending_.insert(e.incidents[0]->fingerprint);
    pipeline_.tasks_.spawn("evidence", pipeline_.enrich_and_announce(*e.incidents[0]));
    return;
  }
  if (e.type == incidents::EventType::kResolved) {
    std::vector<const incidents::Incident*> now;
    for (const auto* inc : e.incidents) {
      if (pending_.count(inc->fingerprint)) {
        held_resolved_[inc->fingerprint].push_back(*inc);  // goes out after its alert
      } else {
        now.push_back(inc);
      }
    }
    if (!now.empty()) next_.on_incident_event({e.type, now});
    return;
  }
  next_.on_incident_event(e);
}

void EvidenceStage::announced(const incidents::Incident& inc) {
  next_.on_incident_event({incidents::EventType::kOpened, {&inc}});
  pending_.erase(inc.fingerprint);
  auto held = held_resolved_.find(inc.fingerprint);
  if (held == held_resolved_.end()) return;
  auto resolved = std::move(held->second);
  held_resolved_.erase(held);
  for (const auto& r : resolved) next_.on_incident_event({incidents::EventType::kResolved, {&r}});
}

std::string Pipeline::key_evidence(const diagnosis::Evidence& ev,
                                   const std::string& container) const {
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
  return redactor_.redact(out);
}

boost::asio::awaitable<void> Pipeline::enrich_and_announce(incidents::Incident inc) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex, hold_);
  const std::string pod = inc.all_pods.empty() ? std::string() : inc.all_pods.front();
  auto gather = diagnosis::gather_pod(*client_, interner_, detector_, inc.ns, pod, budget_);
  auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
  auto first = co_await (std::move(gather) || std::move(wait));
  if (first.index() == 0) {
    auto& ev = std::get<0>(first);
    if (ev.ok()) {
      inc.evidence = key_evidence(ev.value(), inc.container);
      tracker_.set_evidence(inc.fingerprint, inc.evidence);
    }
  } else {
    log::info("diagnosis", "evidence not ready in time; alerting without it",
              {{"incident", inc.id}});
  }
  stage_.announced(inc);
}

namespace {
constexpr int kMaxLlmInflight = 2;

// Runs blocking `f` on `pool`; the awaiting coroutine resumes on its own executor.
template <class F>
net::awaitable<std::invoke_result_t<F>> on_pool(net::thread_pool& pool, F f) {
  // Every lambda and awaitable is named before it is awaited: GCC 12 miscompiles temporaries
  // with destructors inside co_await expressions.
  auto task = [f = std::move(f)]() -> net::awaitable<std::invoke_result_t<F>> { co_return f(); };
  auto op = net::co_spawn(pool.get_executor(), task(), net::use_awaitable);
  co_return co_await std::move(op);
}

server::Response json_ok(const nlohmann::json& j) {
  return {200,
          "application/json",
          j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          {}};
}

server::Response busy() {
  auto r = server::json_error(429, "too many LLM requests in flight; retry later");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}
}  // namespace

net::awaitable<Result<diagnosis::LlmAnswer>> Pipeline::llm_chat(const char* system,
                                                                std::string user) {
  ++llm_inflight_;
  auto llm = llm_;
  auto t0 = std::chrono::steady_clock::now();
  auto call = [llm, system, user] { return llm->chat(system, user); };
  auto answer = co_await on_pool(llm_pool_, std::move(call));
  --llm_inflight_;
  llm_duration_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!answer.ok()) diagnoses_->Add({{"outcome", "llm_error"}}).Increment();
  co_return answer;
}

bool Pipeline::llm_busy() {
  if (llm_inflight_ < kMaxLlmInflight) return false;
  diagnoses_->Add({{"outcome", "busy"}}).Increment();
  return true;
}

net::awaitable<server::Response> Pipeline::ask(std::string question) {
  if (llm_busy()) co_return busy();
  // Nothing leaves unredacted, questions included.
  auto answer = co_await llm_chat(diagnosis::kAskSystemPrompt, redactor_.redact(question));
  if (!answer.ok()) co_return server::json_error(503, answer.error().message);
  diagnoses_->Add({{"outcome", "ok"}}).Increment();
  co_return json_ok({{"answer", redactor_.redact(answer->text)}, {"model", answer->model}});
}

net::awaitable<server::Response> Pipeline::diagnose(std::string question, std::string ns,
                                                    std::string pod) {
  if (llm_busy()) co_return busy();
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
  for (const auto& p : pods) {
    auto ev = co_await diagnosis::gather_pod(*client_, interner_, detector_, ns, p, budget_);
    if (!ev.ok()) {
      diagnoses_->Add({{"outcome", "not_found"}}).Increment();
      co_return server::json_error(ev.error().message.find("404") != std::string::npos ? 404 : 502,
                                   ev.error().message);
    }
    context += ev->text() + "\n";
    for (const auto& f : ev->findings_text) facts.push_back(redactor_.redact(p + ": " + f));
  }
  if (pods.empty()) context = "No pod in namespace " + ns + " is failing right now.\n";
  context = redactor_.redact(context);
  std::string user = diagnosis::diagnose_user_prompt(redactor_.redact(question), context);
  auto answer = co_await llm_chat(diagnosis::kDiagnoseSystemPrompt, std::move(user));
  if (!answer.ok()) {
    // The LLM is down or slow: still give the evidence and the rules-based facts.
    auto r = server::json_error(503, answer.error().message);
    auto j = nlohmann::json::parse(r.body);
    j["context"] = context;
    j["facts"] = facts;
    co_return server::Response{503,
                               "application/json",
                               j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                               {}};
  }
  diagnoses_->Add({{"outcome", "ok"}}).Increment();
  co_return json_ok(
      {{"answer", redactor_.redact(answer->text)}, {"model", answer->model}, {"context", context}});
}

net::awaitable<server::Response> Pipeline::models() {
  auto llm = llm_;
  auto call = [llm] { return llm->models(); };
  auto list = co_await on_pool(llm_pool_, std::move(call));
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
           evs.front()->message.substr(0, 160);
    break;
  }
  return s;
}

}  // namespace podmedic::app
