// The watch-line and list decoders (pods and events) and Status bodies: what the API server
// sends. The first byte picks the entry point.
#include <string>

#include "core/interner.h"
#include "k8s/decode.h"

#include "core/log.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  if (size == 0) return 0;
  static Interner interner;
  static k8s::Decoder decoder(interner);
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  text.reserve(text.size() + k8s::kJsonPadding);
  switch (data[0] % 5) {
    case 0: {
      k8s::WatchHeader h;
      k8s::PodView v;
      (void)decoder.watch_pod(text, text.capacity(), h, v);
      break;
    }
    case 1: {
      k8s::WatchHeader h;
      k8s::EventView v;
      (void)decoder.watch_event(text, text.capacity(), h, v);
      break;
    }
    case 2: {
      k8s::ListMeta meta;
      (void)decoder.pod_list(text, text.capacity(), meta, [](k8s::PodView&) {});
      break;
    }
    case 3: {
      k8s::ListMeta meta;
      (void)decoder.event_list(text, text.capacity(), meta, [](k8s::EventView&) {});
      break;
    }
    default:
      (void)k8s::parse_status(data[0], text);
  }
  return 0;
}
