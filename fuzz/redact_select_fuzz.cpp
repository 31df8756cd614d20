// The log selector and the redactor on hostile log text (what kubelet returns for a
// container's log): never crash, never exceed the budget, always valid UTF-8.
#include <cstdlib>
#include <string_view>

#include "core/log.h"
#include "core/text.h"
#include "diagnosis/evidence.h"
#include "diagnosis/redact.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  static auto redactor = diagnosis::Redactor::create();
  if (!redactor.ok()) std::abort();
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string redacted = redactor->redact(raw);
  // The evidence's budgets (8000 for a previous log, 4000 for a current one) and small ones,
  // where every marker counts.
  for (std::size_t budget :
       {std::size_t{0}, std::size_t{60}, std::size_t{2000}, std::size_t{8000}}) {
    std::string selected = diagnosis::select_log_lines(redacted, budget);
    // Within the budget, the "left out" and "similar lines" markers included.
    if (selected.size() > budget) std::abort();
    if (!text::is_valid_utf8(selected)) std::abort();
  }
  return 0;
}
