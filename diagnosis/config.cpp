#include "diagnosis/config.h"

#include "diagnosis/redact.h"

namespace podmedic::diagnosis {

namespace {
std::string check_re2(const std::string& s) {
  auto r = Redactor::create({s});
  return r.ok() ? "" : r.error().message;
}
}  // namespace

config::Schema diagnosis_schema(DiagnosisConfig& d) {
  using namespace config;
  return Schema{
      boolean("enabled", &d.enabled, "ask the LLM to explain incidents"),
      duration("waitBeforeNotify", &d.wait_before_notify,
               "hold the alert this long for the diagnosis", true),
      duration("changeWindow", &d.change_window,
               "a workload rollout at most this long before a failure is shown as what changed "
               "(image, command, args, env names, config refs, resources)",
               true),
      integer("concurrency", &d.concurrency, "LLM calls at a time for incidents", 1, 16),
      integer("queueSize", &d.queue_size,
              "diagnosis requests waiting at most (newest first; oldest dropped)", 1, 100000),
      section("redact", "what is removed before anything leaves the process",
              [&d] {
                return Schema{strlist("patterns", &d.redact_patterns,
                                      "extra RE2 patterns replaced with [REDACTED]", check_re2),
                              boolean("maskNames", &d.mask_names,
                                      "replace namespace, workload, pod and node names "
                                      "with placeholders in LLM prompts")};
              }),
      section("logs", "container log evidence", [&d] {
        return Schema{size("fetchBytes", &d.fetch_bytes, "limitBytes of each log request", 1024),
                      size("maxBytes", &d.max_bytes, "evidence budget per container", 256)};
      })};
}

config::Schema ollama_schema(OllamaConfig& o) {
  using namespace config;
  return Schema{str("url", &o.url, "Ollama base URL"),
                str("model", &o.model, "model name"),
                str("api", &o.api,
                    "ollama (/api/chat) | openai (/v1/chat/completions of other local "
                    "servers)"),
                boolean("stream", &o.stream, "Ollama: stream the answer as NDJSON"),
                integer("numCtx", &o.num_ctx, "context window (options.num_ctx)", 512, 1 << 20),
                integer("numPredict", &o.num_predict,
                        "answer length bound (options.num_predict / max_tokens)", 16, 1 << 16),
                duration("timeout", &o.timeout,
                         "per-request timeout (first call includes model load)", false)};
}

void validate(const OllamaConfig& o, config::Ctx& ctx) {
  if (!config::is_http_url(o.url)) ctx.error("ollama.url", "must start with http:// or https://");
  if (o.model.empty()) ctx.error("ollama.model", "must not be empty");
  if (o.api != "ollama" && o.api != "openai")
    ctx.error("ollama.api", "expected ollama or openai, got \"" + o.api + "\"");
}

LlmSettings llm_settings(const OllamaConfig& o) {
  LlmSettings llm;
  llm.url = o.url;
  llm.model = o.model;
  llm.timeout = o.timeout;
  llm.openai_compatible = o.api == "openai";
  llm.stream = o.stream;
  llm.num_ctx = o.num_ctx;
  llm.num_predict = o.num_predict;
  return llm;
}

}  // namespace podmedic::diagnosis
