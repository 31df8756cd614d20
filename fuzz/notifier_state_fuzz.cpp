// The notifiers' own files and replies: outbox-<name>.json, slack-threads-<name>.json (read back
// at every start, and adopted from another replica's mirror with HA) and the Slack Web API's
// reply to chat.postMessage. The first byte picks the entry point.
#include <cstdlib>
#include <string>

#include "core/log.h"
#include "notifiers/state.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto r = notifiers::parse_outbox(text);
      if (r.ok()) {
        for (const auto& m : r->items) {
          // What was accepted serializes again (it is written back at once).
          (void)notifiers::outbox_message_json(m);
        }
      }
      break;
    }
    case 1: {
      auto r = notifiers::parse_slack_threads(text, 16);
      if (r.ok() && r->items.size() > 16) std::abort();
      break;
    }
    default:
      (void)notifiers::parse_slack_reply(text);
  }
  return 0;
}
