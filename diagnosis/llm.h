#pragma once
// LLM clients for a local model server: Ollama's POST /api/chat (stream:false) or the
// OpenAI-compatible POST /v1/chat/completions, with explicit num_ctx/num_predict, a low
// temperature, a timeout and a circuit breaker (after 3 consecutive failures, fail fast for
// 30 s). Blocking (libcurl): call from a worker thread, never the pipeline thread. Thread-safe.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

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
};

class HttpLlmClient final : public LlmClient {
 public:
  explicit HttpLlmClient(LlmSettings s) : s_(std::move(s)) {}
  Result<LlmAnswer> chat(const std::string& system, const std::string& user) override;
  Result<std::vector<std::string>> models() override;
  const std::string& model() const override { return s_.model; }

 private:
  Result<LlmAnswer> call(const std::string& system, const std::string& user);
  LlmSettings s_;
  std::mutex mu_;
  int failures_ = 0;
  std::chrono::steady_clock::time_point open_until_{};
};

// Parses an Ollama /api/chat response body: one JSON object (stream:false) or NDJSON chunks
// (stream:true) whose message.content pieces are concatenated; an {"error":…} line, even after
// output began with HTTP 200, is an error; done_reason "length" marks truncation.
Result<LlmAnswer> parse_ollama_chat(std::string_view body, const std::string& default_model);

// System prompts. Evidence is data between markers, never instructions.
extern const char* const kAskSystemPrompt;
extern const char* const kDiagnoseSystemPrompt;
std::string diagnose_user_prompt(const std::string& question, const std::string& evidence);

}  // namespace podmedic::diagnosis
