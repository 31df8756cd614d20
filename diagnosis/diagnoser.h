#pragma once
// Diagnoser: explains incidents with the LLM without letting a storm become a storm of LLM calls.
//
// - Requests (an incident opened, a pod joined it) wait in a bounded queue: incident openings
//   before pod joins, newest first within each class (the fresh incident matters most; the
//   oldest request is dropped when full, and counted).
// - A request gathers its pod's evidence (≤ 4 at a time), redacts it, and looks up the cache,
//   keyed by fingerprint + model + a hash of the evidence with the volatile parts (digits,
//   hex ids, pod names) normalized away: a storm of identical crashes costs one LLM call. A
//   request whose key is already being asked joins that call instead of making another.
// - LLM calls run `concurrency` at a time (a CPU model does about one a minute).
// Runs on the pipeline's io_context; not thread-safe. Evidence and LLM calls are injected, so
// the logic is tested with fakes and replayed in the storm benchmark.
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/result.h"
#include "core/task_group.h"
#include "diagnosis/evidence.h"
#include "diagnosis/llm.h"
#include "diagnosis/redact.h"

namespace podmedic::diagnosis {

struct DiagnosisRequest {
  std::string fingerprint;  // the incident's
  std::string ns, pod;      // where the evidence comes from
  bool opening = false;     // an incident opened (ahead of pod joins)
};

struct DiagnosisOutcome {
  std::string fingerprint;
  std::string pod;
  Result<LlmAnswer> answer = Error{"not diagnosed"};
  std::string evidence;  // redacted, as sent to the LLM (empty if gathering failed)
  // ok (a fresh answer) | cached (from the cache or an identical call) | llm_error |
  // no_evidence | dropped (queue full) | disabled (DiagnoserSettings::ask_llm false)
  const char* outcome = "no_evidence";
  bool cached() const { return std::string_view(outcome) == "cached"; }
};

struct GatheredEvidence {
  std::string text;                         // redacted: what the LLM reads
  std::vector<std::string> volatile_names;  // pod and node names: ignored by the cache key
  Redacted excerpt;                         // key log lines and events, for alerts
  std::vector<EvidenceChange> changes;      // what the workload's rollout changed (redacted)
  // Names replaced with placeholders in the prompt and restored in the answer (maskNames).
  std::vector<std::pair<std::string, std::string>> masks;
  // The secrets found while gathering: the LLM's answer passes through it too (an answer that
  // quotes a password seen without its key in the logs is masked as well). May be null.
  std::shared_ptr<RedactionSession> session;
};

struct DiagnoserSettings {
  std::size_t queue_capacity = 256;
  std::size_t gather_concurrency = 4;
  std::size_t llm_concurrency = 1;
  std::size_t cache_entries = 1024;
  bool ask_llm = true;  // false: gather evidence only (diagnosis.enabled: false)
};

struct DiagnoserStats {
  std::uint64_t requests = 0, llm_calls = 0, cache_hits = 0, coalesced = 0, dropped = 0,
                gather_errors = 0, llm_errors = 0;
};

// Hash of evidence with digit runs, hex ids and the given names replaced, so two pods of one
// workload crashing the same way hash the same.
std::uint64_t evidence_hash(std::string_view evidence, const std::vector<std::string>& names);

class Diagnoser {
 public:
  using Gather = std::function<boost::asio::awaitable<Result<GatheredEvidence>>(
      const std::string& ns, const std::string& pod)>;
  using Ask = std::function<boost::asio::awaitable<Result<LlmAnswer>>(GatheredEvidence evidence)>;
  using Deliver = std::function<void(const DiagnosisOutcome&)>;
  using OnEvidence = std::function<void(const DiagnosisRequest&, const GatheredEvidence&)>;

  Diagnoser(TaskGroup& tasks, std::string model, DiagnoserSettings s, Gather gather, Ask ask,
            Deliver deliver);

  // Queues a request; returns false if it was dropped (the queue was full of newer ones).
  bool submit(DiagnosisRequest r);
  // Called as soon as a request's evidence is gathered, before any LLM call.
  void on_evidence(OnEvidence f) { on_evidence_ = std::move(f); }
  const DiagnoserStats& stats() const { return stats_; }
  std::size_t queued() const { return queue_.size(); }
  bool idle() const { return queue_.empty() && gathering_ == 0 && waiting_.empty(); }

 private:
  struct Waiter {
    DiagnosisRequest request;
    std::string evidence;
  };
  void pump();
  boost::asio::awaitable<void> process(DiagnosisRequest r);
  boost::asio::awaitable<void> call(std::string key, GatheredEvidence evidence);
  void finish(const std::string& key, const Result<LlmAnswer>& answer);
  void cache_put(const std::string& key, const LlmAnswer& a);
  const LlmAnswer* cache_get(const std::string& key);

  TaskGroup& tasks_;
  std::string model_;
  DiagnoserSettings s_;
  Gather gather_;
  Ask ask_;
  Deliver deliver_;
  OnEvidence on_evidence_;
  std::deque<DiagnosisRequest> queue_;  // front: next to run
  std::size_t gathering_ = 0;
  std::size_t calling_ = 0;
  std::deque<std::pair<std::string, GatheredEvidence>> call_queue_;  // waiting for an LLM slot
  std::map<std::string, std::vector<Waiter>> waiting_;  // key → requests waiting for that answer
  std::list<std::pair<std::string, LlmAnswer>> lru_;    // front: most recent
  std::unordered_map<std::string, std::list<std::pair<std::string, LlmAnswer>>::iterator> cache_;
  DiagnoserStats stats_;
};

}  // namespace podmedic::diagnosis
