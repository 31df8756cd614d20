#pragma once
// The `diagnosis` and `ollama` sections of the configuration: evidence gathering, redaction and
// the LLM server.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "diagnosis/llm.h"

namespace podmedic::diagnosis {

using std::chrono::milliseconds;

struct DiagnosisConfig {
  bool enabled = true;
  milliseconds wait_before_notify{std::chrono::seconds(10)};
  std::uint64_t fetch_bytes = 2 * 1024 * 1024;
  std::uint64_t max_bytes = 8000;
  int concurrency = 1;
  int queue_size = 256;
  std::vector<std::string> redact_patterns;
  bool mask_names = false;
  // A rollout at most this long before a failure is shown as "what changed" (diagnosis/changes.h).
  milliseconds change_window{std::chrono::minutes(30)};
};

struct OllamaConfig {
  std::string url = "http://127.0.0.1:11434";
  std::string model = "mistral";
  milliseconds timeout{std::chrono::seconds(120)};
  std::string api = "ollama";  // ollama | openai
  bool stream = true;
  int num_ctx = 8192;
  int num_predict = 512;
};

config::Schema diagnosis_schema(DiagnosisConfig& d);
config::Schema ollama_schema(OllamaConfig& o);
void validate(const OllamaConfig& o, config::Ctx& ctx);

// The LLM client's settings from the ollama section.
LlmSettings llm_settings(const OllamaConfig& o);

}  // namespace podmedic::diagnosis
