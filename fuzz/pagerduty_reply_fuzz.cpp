// The PagerDuty Events API's answer to an event (2xx or 4xx), read to count a receiver that is
// not the PagerDuty we expect and to log PagerDuty's own error words.
#include <cstdlib>
#include <string_view>

#include "core/text.h"
#include "notifiers/pagerduty.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = podmedic::notifiers::parse_pagerduty_reply(body);
  // What it hands to the log is bounded, valid text.
  if (r.detail.size() > 400 || !podmedic::text::is_valid_utf8(r.detail)) std::abort();
  if (r.status.size() > 100 || !podmedic::text::is_valid_utf8(r.status)) std::abort();
  return 0;
}
