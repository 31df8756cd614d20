// The YAML config loader (podmedic run --config / check-config): every problem is an error
// line, nothing throws.
#include <string>

#include "app/config.h"

#include "core/log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = podmedic::app::parse_config(text, "fuzz.yaml");
  (void)r;
  return 0;
}
