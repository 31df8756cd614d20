// Both LLM reply parsers (Ollama NDJSON, streamed or not; OpenAI-compatible JSON), the model
// listings and the URL credential stripper. The first byte picks the entry point.
#include <cstdlib>
#include <string>

#include "core/log.h"
#include "diagnosis/llm.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  PeerFault fault{};
  switch (data[0] % 5) {
    case 0: {
      auto r = diagnosis::parse_ollama_chat(body, "m", &fault);
      if (r.ok() && r->text.empty()) std::abort();  // no text is an error, never an empty answer
      break;
    }
    case 1: {
      auto r = diagnosis::parse_openai_chat(body, "m", &fault);
      if (r.ok() && r->text.empty()) std::abort();
      break;
    }
    case 2:
      (void)diagnosis::parse_models(body, false, &fault);
      break;
    case 3:
      (void)diagnosis::parse_models(body, true, &fault);
      break;
    default: {
      std::string url = diagnosis::url_without_credentials(body);
      if (url.size() > body.size()) std::abort();
    }
  }
  return 0;
}
