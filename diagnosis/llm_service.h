#pragma once
// LlmService: the one way to the LLM, for the incident path (the Diagnoser's evidence and
// explanations), the HTTP routes (/ask, /diagnose, /models) and `podmedic diagnose`.
//
// - Blocking LLM calls run on two lanes of worker threads; results resume on the caller's
//   executor. Incidents: `incident_concurrency` threads for the Diagnoser's calls + 1 for the
//   start-up model check, so an incident's call never queues. Requests (routes, the CLI):
//   kMaxRequests threads and at most kMaxRequests admitted together; beyond that kBusy (the
//   routes answer 429), so requests can never delay an incident's diagnosis.
// - Metrics: podmedic_diagnoses_total{outcome} (ok, cached, llm_error, no_evidence, dropped,
//   not_found, busy) and podmedic_llm_request_duration_seconds{outcome} (ok, error, timeout,
//   cancelled).
// - Nothing leaves unredacted: questions, evidence (one RedactionSession per answer: a secret
//   found in any text of it is masked in all, the LLM's answer included) and answers.
// - diagnosis.maskNames: the incident path's prompts name pods, namespaces, workloads and nodes
//   by placeholders, restored in the answer.
// Runs on one io_context thread (the pipeline's); not thread-safe. The LLM client is injected
// (an in-process fake in tests).
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/log.h"
#include "diagnosis/diagnoser.h"
#include "diagnosis/evidence_source.h"
#include "diagnosis/llm.h"
#include "diagnosis/redact.h"

namespace podmedic::diagnosis {

struct LlmServiceSettings {
  std::size_t incident_concurrency = 1;  // diagnosis.concurrency
  bool mask_names = false;               // diagnosis.maskNames
};

// How a request ended. The HTTP routes map these to statuses (app/).
enum class LlmOutcome {
  kOk,
  kBusy,               // kMaxRequests already in flight (429)
  kLlmError,           // the LLM failed; a diagnosis still carries the evidence and facts (503)
  kListFailed,         // the namespace's pods could not be listed (502)
  kPodNotFound,        // the pod does not exist (404)
  kNamespaceNotFound,  // the namespace does not exist (404)
  kPodFailed,          // the pod's evidence could not be gathered otherwise (502)
};

struct AskReply {
  LlmOutcome outcome = LlmOutcome::kOk;
  std::string error;   // when not kOk
  std::string answer;  // redacted
  std::string model;
};

struct ModelsReply {
  LlmOutcome outcome = LlmOutcome::kOk;
  std::string error;
  std::vector<std::string> models;
};

struct DiagnoseReply;

struct DiagnoseRequest {
  std::string question;  // may be empty
  std::string ns;
  std::string pod;      // empty: the namespace's failing pods, at most kMaxPods
  bool ask_llm = true;  // false: evidence and facts only (podmedic diagnose --no-llm)
  // No pod is failing in the namespace: still ask the LLM with that as the evidence (the route),
  // or stop there (the CLI prints "No failing pods").
  bool ask_without_failing_pods = true;
  // Called just before the LLM is asked (the CLI says where it asks).
  std::function<void()> before_llm;
  // Called at the same point with the reply so far (the evidence, facts and pods; no answer):
  // the MCP tool answers with it when the LLM is slower than the tool call may take.
  std::function<void(const DiagnoseReply&)> on_evidence;
};

struct DiagnoseReply {
  LlmOutcome outcome = LlmOutcome::kOk;
  std::string error;       // when not kOk (the API's or the LLM's message)
  std::string failed_pod;  // kPodNotFound / kPodFailed: which pod
  std::string question;    // redacted
  struct Pod {
    std::string name;
    std::vector<std::string> findings;  // redacted rules-based facts, one line each
  };
  std::vector<Pod> pods;           // the pods diagnosed, in order
  std::string context;             // redacted: every pod's evidence, as sent to the LLM
  std::vector<std::string> facts;  // redacted "pod: fact" lines of every pod
  bool asked = false;              // the LLM was asked (kOk: answer is its answer)
  std::string answer;              // redacted
  std::string model;
  bool truncated = false;  // the answer hit ollama.numPredict
};

class LlmService {
 public:
  // `redactor`, `evidence` and `registry` must outlive the service.
  LlmService(std::shared_ptr<LlmClient> llm, const Redactor& redactor, EvidenceSource& evidence,
             prometheus::Registry& registry, LlmServiceSettings settings = {});
  // Shutdown(): cancels the LLM calls in flight and joins the worker threads.
  ~LlmService();
  LlmService(const LlmService&) = delete;
  LlmService& operator=(const LlmService&) = delete;

  // At most this many requests (ask, diagnose, models) in flight together.
  static constexpr int kMaxRequests = 2;
  // `diagnose NAMESPACE`: the failing pods looked at, in one prompt (their evidence together
  // fits ollama.numCtx's default of 8192 tokens).
  static constexpr std::size_t kMaxPods = 2;

  // Logs whether the LLM server answers and has the configured model.
  boost::asio::awaitable<void> check_model();

  // The incident path (the Diagnoser's callbacks). gather: one pod's evidence with its key
  // lines for the alert and, with mask_names, the names to mask. explain: the LLM's answer,
  // names restored, redacted by the evidence's session. delivered: counts the outcome and
  // returns the sealed diagnosis text (empty when there is none).
  boost::asio::awaitable<Result<GatheredEvidence>> gather(std::string ns, std::string pod);
  boost::asio::awaitable<Result<LlmAnswer>> explain(GatheredEvidence evidence);
  Redacted delivered(const DiagnosisOutcome& outcome);

  // Requests (HTTP routes, the CLI).
  boost::asio::awaitable<AskReply> ask(std::string question);
  boost::asio::awaitable<DiagnoseReply> diagnose(DiagnoseRequest request);
  boost::asio::awaitable<ModelsReply> models();

  // Cancels every LLM call in flight (each ends within http::kCancelLatency) and joins the
  // worker threads. Call while the io_contexts the calls came from still exist: a finishing
  // call posts its result back to them. Idempotent.
  void shutdown();

  const LlmClient& client() const { return *llm_; }

 private:
  boost::asio::awaitable<Result<LlmAnswer>> chat(boost::asio::thread_pool& pool, const char* system,
                                                 std::string user);
  bool busy();
  Redacted key_evidence(const Evidence& ev) const;

  std::shared_ptr<LlmClient> llm_;
  const Redactor& redactor_;
  EvidenceSource& evidence_;
  LlmServiceSettings s_;
  prometheus::Family<prometheus::Counter>* diagnoses_;  // podmedic_diagnoses_total{outcome}
  log::RateLimited failures_log_;  // "no diagnosis", once a minute per outcome (a fixed set)
  // podmedic_llm_request_duration_seconds{outcome}
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Histogram& duration(const char* outcome) {
    return duration_->Add({{"outcome", outcome}}, prometheus::Histogram::BucketBoundaries{
                                                      0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300});
  }
  std::unique_ptr<boost::asio::thread_pool> incident_pool_;
  std::unique_ptr<boost::asio::thread_pool> request_pool_;
  int inflight_ = 0;  // requests admitted (<= kMaxRequests)
  bool shut_ = false;
};

}  // namespace podmedic::diagnosis
