// The log selector and the redactor on hostile log text (what kubelet returns for a
// container's log): never crash, never grow without bound.
#include <cstdlib>
#include <string_view>

#include "diagnosis/evidence.h"
#include "diagnosis/redact.h"

#include "core/log.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  static auto redactor = diagnosis::Redactor::create();
  if (!redactor.ok()) std::abort();
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string redacted = redactor->redact(raw);
  std::string selected = diagnosis::select_log_lines(redacted, 2000);
  // The selection stays within its budget, the "left out" markers included.
  if (selected.size() > 2000) std::abort();
  return 0;
}
