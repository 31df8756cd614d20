#include "diagnosis/llm_service.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"

namespace podmedic::diagnosis {

namespace net = boost::asio;

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

// One admitted request for as long as it lives.
struct Counted {
  int& n;
  explicit Counted(int& c) : n(c) { ++n; }
  ~Counted() { --n; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
};

}  // namespace

LlmService::LlmService(std::shared_ptr<LlmClient> llm, const Redactor& redactor,
                       EvidenceSource& evidence, prometheus::Registry& registry,
                       LlmServiceSettings settings)
    : llm_(std::move(llm)),
      redactor_(redactor),
      evidence_(evidence),
      s_(settings),
      incident_pool_(std::make_unique<net::thread_pool>(s_.incident_concurrency + 1)),
      request_pool_(std::make_unique<net::thread_pool>(static_cast<std::size_t>(kMaxRequests))) {
  assert(llm_);
  diagnoses_ = &prometheus::BuildCounter()
                    .Name("podmedic_diagnoses_total")
                    .Help(
                        "Diagnoses, by outcome: ok, cached (an identical one answered), "
                        "llm_error, no_evidence, dropped (queue full), not_found, busy")
                    .Register(registry);
  for (const char* outcome : {"ok", "cached", "llm_error"}) diagnoses_->Add({{"outcome", outcome}});
  duration_ = &prometheus::BuildHistogram()
                   .Name("podmedic_llm_request_duration_seconds")
                   .Help(
                       "LLM chat request duration, by outcome: ok, error (a failure the server "
                       "answered or a refused connection), timeout, cancelled (shutdown)")
                   .Register(registry);
  // Fixed outcomes (chat_outcome), every series at zero from the start.
  for (const char* outcome : {"ok", "error", "timeout", "cancelled"}) duration(outcome);
}

LlmService::~LlmService() {
  shutdown();
}

void LlmService::shutdown() {
  if (shut_) return;
  shut_ = true;
  // LLM calls in flight (a hung server) end within http::kCancelLatency instead of holding the
  // threads, and with them the shutdown, until ollama.timeout.
  llm_->cancel_all();
  // The threads finish their (now cancelled) calls and post the results back, holding a work
  // guard on the io_context they came from: joined here, while that io_context still exists.
  request_pool_->join();
  incident_pool_->join();
}

net::awaitable<void> LlmService::check_model() {
  auto llm = llm_;
  auto call = [llm] { return llm->models(); };
  auto op = on_pool(*incident_pool_, std::move(call));
  auto list = co_await std::move(op);
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

Redacted LlmService::key_evidence(const Evidence& ev) const {
  constexpr std::size_t kMax = 1800;
  std::string logs;
  for (const auto& l : ev.logs) {
    if (l.container == ev.key_container) logs = !l.previous.empty() ? l.previous : l.current;
  }
  // The crash log's selector again, at the alert's size: the cause and the fatal lines first,
  // then the tail (the evidence's selection at maxBytes is longer than an alert can show).
  if (logs.size() > kMax) logs = select_log_lines(logs, kMax);
  std::string out = logs;
  for (std::size_t i = 0; i < ev.events.size() && i < 3; ++i) {
    out += (i == 0 ? "Events:\n" : "") + ev.events[i] + "\n";
  }
  return redactor_.seal(out);
}

net::awaitable<Result<GatheredEvidence>> LlmService::gather(std::string ns, std::string pod) {
  // One redaction session for everything this pod's evidence holds: a secret found in any of
  // its texts (logs as fetched, before selection; state messages; events) is masked in all,
  // and in the LLM's answer later.
  auto session = std::make_shared<RedactionSession>(redactor_);
  auto op = evidence_.pod(ns, pod, session);
  auto ev = co_await std::move(op);
  if (!ev.ok()) co_return ev.error();
  GatheredEvidence g;
  g.text = ev->text();  // redacted by the session
  g.session = ev->session;
  g.volatile_names.push_back(pod);
  g.excerpt = key_evidence(ev.value());
  g.changes = ev->changes;
  if (!ev->node.empty()) g.volatile_names.push_back(ev->node);
  if (s_.mask_names) {
    NameMasker m;
    m.add(pod, "pod");
    m.add(ns, "namespace");
    m.add(ev->workload, "workload");
    m.add(ev->node, "node");
    g.masks = m.pairs();
  }
  co_return g;
}

net::awaitable<Result<LlmAnswer>> LlmService::explain(GatheredEvidence ev) {
  std::string evidence = replace_all_longest_first(ev.text, ev.masks);
  auto op = chat(*incident_pool_, kDiagnoseSystemPrompt, diagnose_user_prompt("", evidence));
  auto answer = co_await std::move(op);
  if (answer.ok() && !ev.masks.empty()) {
    std::vector<std::pair<std::string, std::string>> back;
    for (const auto& [name, placeholder] : ev.masks) back.emplace_back(placeholder, name);
    answer->text = replace_all_longest_first(answer->text, back);
  }
  if (answer.ok() && ev.session) answer->text = ev.session->redact(answer->text);
  co_return answer;
}

Redacted LlmService::delivered(const DiagnosisOutcome& o) {
  // llm_error is counted by chat() (for the requests too); "disabled" is not a diagnosis.
  const std::string_view outcome = o.outcome;
  if (outcome != "llm_error" && outcome != "disabled")
    diagnoses_->Add({{"outcome", o.outcome}}).Increment();
  if (!o.answer.ok()) {
    // Why alerts go out without an explanation must show at the default level (a missing
    // model, a timeout, a malformed reply); once a minute per outcome, not once per incident.
    if (outcome == "disabled")
      log::debug("diagnosis", "no diagnosis", {{"pod", o.pod}, {"outcome", o.outcome}});
    else
      failures_log_.write(
          log::Level::kWarn, "diagnosis", outcome, "no diagnosis",
          {{"pod", o.pod}, {"outcome", o.outcome}, {"error", o.answer.error().message}});
    return Redacted();
  }
  return redactor_.seal(o.answer->text);
}

net::awaitable<Result<LlmAnswer>> LlmService::chat(net::thread_pool& pool, const char* system,
                                                   std::string user) {
  auto llm = llm_;
  auto t0 = std::chrono::steady_clock::now();
  auto call = [llm, system, user] { return llm->chat(system, user); };
  auto op = on_pool(pool, std::move(call));
  auto answer = co_await std::move(op);
  duration(chat_outcome(answer))
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!answer.ok()) diagnoses_->Add({{"outcome", "llm_error"}}).Increment();
  co_return answer;
}

bool LlmService::busy() {
  if (inflight_ < kMaxRequests) return false;
  diagnoses_->Add({{"outcome", "busy"}}).Increment();
  return true;
}

net::awaitable<AskReply> LlmService::ask(std::string question) {
  AskReply reply;
  if (busy()) {
    reply.outcome = LlmOutcome::kBusy;
    co_return reply;
  }
  Counted inflight(inflight_);
  // Nothing leaves unredacted, questions included.
  auto op = chat(*request_pool_, kAskSystemPrompt, redactor_.redact(question));
  auto answer = co_await std::move(op);
  if (!answer.ok()) {
    reply.outcome = LlmOutcome::kLlmError;
    reply.error = answer.error().message;
    co_return reply;
  }
  diagnoses_->Add({{"outcome", "ok"}}).Increment();
  reply.answer = redactor_.redact(answer->text);
  reply.model = answer->model;
  co_return reply;
}

net::awaitable<DiagnoseReply> LlmService::diagnose(DiagnoseRequest req) {
  DiagnoseReply reply;
  if (busy()) {
    reply.outcome = LlmOutcome::kBusy;
    co_return reply;
  }
  Counted inflight(inflight_);
  std::vector<std::string> pods;
  if (!req.pod.empty()) {
    pods.push_back(req.pod);
  } else {
    auto op = evidence_.failing_pods(req.ns, kMaxPods);
    auto failing = co_await std::move(op);
    if (!failing.ok()) {
      reply.outcome = LlmOutcome::kListFailed;
      reply.error = failing.error().message;
      co_return reply;
    }
    pods = std::move(failing.value());
    // Listing a namespace that does not exist answers an empty list: say so instead of
    // "nothing is failing", and do not ask the LLM about it.
    if (pods.empty()) {
      auto check = evidence_.namespace_missing(req.ns);
      if (co_await std::move(check)) {
        reply.outcome = LlmOutcome::kNamespaceNotFound;
        reply.error = "namespace \"" + req.ns + "\" not found";
        co_return reply;
      }
    }
  }
  // One session for the whole answer: secrets found in any pod's texts are masked everywhere,
  // the question and the LLM's answer included.
  auto session = std::make_shared<RedactionSession>(redactor_);
  std::string context;
  for (const auto& p : pods) {
    auto op = evidence_.pod(req.ns, p, session);
    auto ev = co_await std::move(op);
    if (!ev.ok()) {
      diagnoses_->Add({{"outcome", "not_found"}}).Increment();
      const bool missing = ev.error().message.find("404") != std::string::npos;
      reply.outcome = missing ? LlmOutcome::kPodNotFound : LlmOutcome::kPodFailed;
      reply.error = ev.error().message;
      reply.failed_pod = p;
      co_return reply;
    }
    context += ev->text() + "\n";
    DiagnoseReply::Pod pod{p, ev->findings_text};
    for (const auto& f : ev->findings_text) reply.facts.push_back(session->redact(p + ": " + f));
    reply.pods.push_back(std::move(pod));
  }
  if (pods.empty()) context = "No pod in namespace " + req.ns + " is failing right now.\n";
  reply.context = session->redact(context);
  reply.question = session->redact(req.question);
  if (!req.ask_llm || (pods.empty() && !req.ask_without_failing_pods)) co_return reply;
  if (req.on_evidence) req.on_evidence(reply);
  if (req.before_llm) req.before_llm();
  reply.asked = true;
  auto op = chat(*request_pool_, kDiagnoseSystemPrompt,
                 diagnose_user_prompt(reply.question, reply.context));
  auto answer = co_await std::move(op);
  if (!answer.ok()) {
    // The LLM is down or slow: the evidence and the rules-based facts still go back.
    reply.outcome = LlmOutcome::kLlmError;
    reply.error = answer.error().message;
    co_return reply;
  }
  diagnoses_->Add({{"outcome", "ok"}}).Increment();
  reply.answer = session->redact(answer->text);
  reply.model = answer->model;
  reply.truncated = answer->truncated;
  co_return reply;
}

net::awaitable<ModelsReply> LlmService::models() {
  ModelsReply reply;
  if (busy()) {
    reply.outcome = LlmOutcome::kBusy;
    co_return reply;
  }
  Counted inflight(inflight_);
  auto llm = llm_;
  auto call = [llm] { return llm->models(); };
  auto op = on_pool(*request_pool_, std::move(call));
  auto list = co_await std::move(op);
  if (!list.ok()) {
    reply.outcome = LlmOutcome::kLlmError;
    reply.error = list.error().message;
    co_return reply;
  }
  reply.models = std::move(list.value());
  co_return reply;
}

}  // namespace podmedic::diagnosis
