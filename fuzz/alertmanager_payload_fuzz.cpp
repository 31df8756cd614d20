// Alertmanager's webhook payload (POST /api/alertmanager): the parser and the classification of
// every alert it keeps. Invariants: never throws or crashes; what it keeps is within its bounds.
#include <cstdlib>
#include <string>

#include "server/alertmanager_payload.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = server::parse_alertmanager_payload(body);
  if (auto* p = std::get_if<server::AmPayload>(&r)) {
    if (p->alerts.size() > server::kMaxAlerts) std::abort();
    for (const auto& a : p->alerts) {
      if (a.labels.size() > server::kMaxLabels + 4 || a.fingerprint.empty()) std::abort();
      for (const auto& [k, v] : a.labels) {
        if (v.size() > server::kMaxLabelValue) std::abort();
      }
      (void)server::classify(a, [](const std::string& ns) { return ns != "kube-system"; });
    }
  }
  return 0;
}
