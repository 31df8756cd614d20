#pragma once
// LLM clients for a local model server: Ollama's POST /api/chat (stream:false) or the
// OpenAI-compatible POST /v1/chat/completions, with explicit num_ctx/num_predict, a low
// temperature, a timeout and a circuit breaker (after 3 consecutive failures, fail fast for
// 30 s). Blocking (libcurl): call from a worker thread, never the pipeline thread. Thread-safe.
// Every reply is untrusted: the parsers below are pure, never throw, and turn a wrong type, a
// missing text or a cut stream into an error value (and, with a PeerErrors, a counted fault).
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http.h"
#include "core/peer_errors.h"
#include "core/result.h"

namespace podmedic::diagnosis {

struct LlmSettings {
  std::string url = "http://127.0.0.1:11434";
  std::string model = "mistral";
  std::chrono::milliseconds timeout{120'000};
  int num_ctx = 8192;
  int num_predict = 512;
  double temperature = 0.1;
  bool openai_compatible = false;  // /v1/chat/completions instead of /api/chat
  bool stream = true;              // Ollama: NDJSON chunks (stream:true) or one object
};

struct LlmAnswer {
  std::string text;
  std::string model;
  bool truncated = false;  // the model hit num_predict
};

// The LLM seam (a fake server stands behind it in tests).
class LlmClient {
 public:
  virtual ~LlmClient() = default;
  virtual Result<LlmAnswer> chat(const std::string& system, const std::string& user) = 0;
  virtual Result<std::vector<std::string>> models() = 0;
  virtual const std::string& model() const = 0;
  // Shutdown: every call in flight returns an error within http::kCancelLatency, and every later
  // call fails at once. Irreversible. Callable from any thread.
  virtual void cancel_all() {}
};

// Error messages never contain the URL's credentials (ollama.url may be http://user:pass@host).
// A call ended by cancel_all() is an error ("LLM call cancelled") that counts neither as a peer
// error nor towards the circuit breaker.
// `peer_errors` (optional, must outlive the client) counts each unusable reply once under
// Peer::kLlm: kTransport, kTimeout, kStatus, kMalformed, kWrongType, kOversized.
class HttpLlmClient final : public LlmClient {
 public:
  explicit HttpLlmClient(LlmSettings s, PeerErrors* peer_errors = nullptr);
  Result<LlmAnswer> chat(const std::string& system, const std::string& user) override;
  Result<std::vector<std::string>> models() override;
  const std::string& model() const override { return s_.model; }
  void cancel_all() override { cancel_.cancel(); }

  // Bounds on what we read from the server: a bigger body is cut there and is an error.
  static constexpr std::size_t kMaxChatBody = 4u << 20;
  static constexpr std::size_t kMaxModelsBody = 1u << 20;

 private:
  Result<LlmAnswer> call(const std::string& system, const std::string& user);
  void count(PeerFault f) {
    if (peer_errors_) peer_errors_->count(Peer::kLlm, f);
  }
  // `message` with the URL's credentials removed wherever they appear.
  std::string scrub(std::string message) const;
  LlmSettings s_;
  PeerErrors* peer_errors_;
  std::string safe_url_;  // s_.url without userinfo, for messages
  std::string userinfo_;  // "user:pass" from s_.url, scrubbed out of any message
  http::Cancel cancel_;   // shared by every transfer of this client
  std::mutex mu_;
  int failures_ = 0;
  std::chrono::steady_clock::time_point open_until_{};
};

// Parses an Ollama /api/chat response body: one JSON object (stream:false) or NDJSON chunks
// (stream:true) whose message.content pieces are concatenated; an {"error":…} line (not null),
// even after output began with HTTP 200, is an error; done_reason "length" marks truncation.
// Wrong-typed members (done:"true", content:42) are ignored; no text at all is an error ("LLM
// returned no text"). Pure, never throws. On error, `fault` (if given) says how to count it.
Result<LlmAnswer> parse_ollama_chat(std::string_view body, const std::string& default_model,
                                    PeerFault* fault = nullptr);
// Parses an OpenAI-compatible /v1/chat/completions body (stream:false): choices[0].message.content
// as a string, or an array of parts whose text parts are joined; finish_reason "length" marks
// truncation. content null (a reasoning model that spent its budget, a tool call), empty, or
// of another type is an error ("LLM returned no text"), as are an {"error":…} body and
// choices/message of the wrong type. Pure, never throws.
Result<LlmAnswer> parse_openai_chat(std::string_view body, const std::string& default_model,
                                    PeerFault* fault = nullptr);
// Parses a model listing: Ollama's /api/tags ({"models":[{"name":…}]}) or OpenAI's /v1/models
// ({"data":[{"id":…}]}). Entries of the wrong type are skipped; a body that is not such an
// object is an error. Pure, never throws.
Result<std::vector<std::string>> parse_models(std::string_view body, bool openai_compatible,
                                              PeerFault* fault = nullptr);
// The outcome label of one chat call, for podmedic_llm_request_duration_seconds{outcome}: ok,
// timeout (the transfer hit ollama.timeout), cancelled (cancel_all at shutdown) or error.
const char* chat_outcome(const Result<LlmAnswer>& r);
// `url` without its userinfo ("http://u:p@h:1/x" → "http://h:1/x"), for messages and logs.
std::string url_without_credentials(std::string_view url);

// System prompts. Evidence is data between markers, never instructions.
extern const char* const kAskSystemPrompt;
extern const char* const kDiagnoseSystemPrompt;
std::string diagnose_user_prompt(const std::string& question, const std::string& evidence);

}  // namespace podmedic::diagnosis
