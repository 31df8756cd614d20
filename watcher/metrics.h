#pragma once
// Prometheus instruments of the watch path. Counters/gauges are prometheus-cpp's (thread-safe
// atomics); this struct only groups the families so components take a reference, not a registry.
// Every label value comes from a fixed set named here (enums mapped to literals): nothing a peer
// sends (an event type, a Status reason, a resource name) can add a series or put bytes that are
// not ASCII into the exposition. Bound: 2 resources × (6 types + 9 restart reasons + 5 decode
// kinds + 2) series.
#include <array>
#include <cstddef>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "k8s/api.h"
#include "k8s/objects.h"

namespace podmedic::watcher {

// ADDED, MODIFIED, DELETED, BOOKMARK, ERROR, or "other" for any type we do not know.
const char* watch_type_label(k8s::WatchType t);

enum class RestartReason {
  kTimeout,       // clean end of a watch (timeoutSeconds)
  kConnection,    // transport failure
  kExpired,       // 410
  kUnauthorized,  // 401
  kForbidden,     // 403
  kThrottled,     // 429
  kServerError,   // 5xx
  kClientError,   // any other status
  kShortWatch,    // a watch that ended within a second without events
};
const char* restart_reason_label(RestartReason r);

enum class DecodeErrorKind { kList, kMalformed, kOversized, kUnknownType, kTruncated };
const char* decode_error_label(DecodeErrorKind k);

struct WatchMetrics {
  explicit WatchMetrics(prometheus::Registry& registry);
  prometheus::Family<prometheus::Counter>& events;  // podmedic_watch_events_total{resource,type}
  prometheus::Family<prometheus::Counter>&
      restarts;  // podmedic_watch_restarts_total{resource,reason}
  prometheus::Family<prometheus::Counter>& relists;  // podmedic_relists_total{resource}
  prometheus::Family<prometheus::Counter>&
      decode_errors;                  // podmedic_watch_decode_errors_total{resource,kind}
  prometheus::Gauge& pods_tracked;    // podmedic_pods_tracked
  prometheus::Gauge& events_tracked;  // podmedic_events_tracked
  // podmedic_watch_connected{resource}: watch streams open now (one per namespace scope; 0
  // while listing, backing off or disconnected).
  prometheus::Family<prometheus::Gauge>& connected;

  // Called once per watch event: a cached counter, no label map or family mutex on that path.
  prometheus::Counter& event(k8s::Resource resource, k8s::WatchType type) {
    return *event_counters_[static_cast<std::size_t>(resource)][static_cast<std::size_t>(type)];
  }
  prometheus::Counter& restart(k8s::Resource resource, RestartReason reason) {
    return restarts.Add(
        {{"resource", k8s::resource_name(resource)}, {"reason", restart_reason_label(reason)}});
  }
  prometheus::Counter& relist(k8s::Resource resource) {
    return relists.Add({{"resource", k8s::resource_name(resource)}});
  }
  prometheus::Gauge& watch_connected(k8s::Resource resource) {
    return connected.Add({{"resource", k8s::resource_name(resource)}});
  }
  prometheus::Counter& decode_error(k8s::Resource resource, DecodeErrorKind kind) {
    return decode_errors.Add(
        {{"resource", k8s::resource_name(resource)}, {"kind", decode_error_label(kind)}});
  }

 private:
  // Every {resource, type} series of podmedic_watch_events_total, added by the constructor
  // (2 resources × 6 types; WatchType's values index the inner array). Family::Add returns
  // references that live as long as the family.
  static constexpr std::size_t kWatchTypes = static_cast<std::size_t>(k8s::WatchType::kUnknown) + 1;
  std::array<std::array<prometheus::Counter*, kWatchTypes>, 2> event_counters_{};
};

}  // namespace podmedic::watcher
