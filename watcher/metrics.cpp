#include "watcher/metrics.h"

namespace podmedic::watcher {

const char* watch_type_label(k8s::WatchType t) {
  switch (t) {
    case k8s::WatchType::kAdded:
      return "ADDED";
    case k8s::WatchType::kModified:
      return "MODIFIED";
    case k8s::WatchType::kDeleted:
      return "DELETED";
    case k8s::WatchType::kBookmark:
      return "BOOKMARK";
    case k8s::WatchType::kError:
      return "ERROR";
    case k8s::WatchType::kUnknown:
      break;
  }
  return "other";
}

const char* restart_reason_label(RestartReason r) {
  switch (r) {
    case RestartReason::kTimeout:
      return "timeout";
    case RestartReason::kConnection:
      return "connection";
    case RestartReason::kExpired:
      return "expired";
    case RestartReason::kUnauthorized:
      return "unauthorized";
    case RestartReason::kForbidden:
      return "forbidden";
    case RestartReason::kThrottled:
      return "throttled";
    case RestartReason::kServerError:
      return "server_error";
    case RestartReason::kClientError:
      return "client_error";
    case RestartReason::kShortWatch:
      return "short_watch";
  }
  return "other";
}

const char* decode_error_label(DecodeErrorKind k) {
  switch (k) {
    case DecodeErrorKind::kList:
      return "list";
    case DecodeErrorKind::kMalformed:
      return "malformed";
    case DecodeErrorKind::kOversized:
      return "oversized";
    case DecodeErrorKind::kUnknownType:
      return "unknown_type";
    case DecodeErrorKind::kTruncated:
      return "truncated";
  }
  return "other";
}

WatchMetrics::WatchMetrics(prometheus::Registry& r)
    : events(prometheus::BuildCounter()
                 .Name("podmedic_watch_events_total")
                 .Help("Watch events received, by resource and event type")
                 .Register(r)),
      restarts(prometheus::BuildCounter()
                   .Name("podmedic_watch_restarts_total")
                   .Help("Watch streams restarted, by resource and reason")
                   .Register(r)),
      relists(prometheus::BuildCounter()
                  .Name("podmedic_relists_total")
                  .Help("Complete lists (initial sync and relists after 410 or errors)")
                  .Register(r)),
      decode_errors(prometheus::BuildCounter()
                        .Name("podmedic_watch_decode_errors_total")
                        .Help("Watch lines or list bodies that could not be used, by kind")
                        .Register(r)),
      pods_tracked(prometheus::BuildGauge()
                       .Name("podmedic_pods_tracked")
                       .Help("Pods in the compact store")
                       .Register(r)
                       .Add({})),
      events_tracked(prometheus::BuildGauge()
                         .Name("podmedic_events_tracked")
                         .Help("Warning events kept for diagnosis")
                         .Register(r)
                         .Add({})),
      connected(prometheus::BuildGauge()
                    .Name("podmedic_watch_connected")
                    .Help("Watch streams open now, by resource (one per namespace scope)")
                    .Register(r)) {
  // Series that exist from the start (at zero), so dashboards and alerts see them before the
  // first event or failure. The other restart reasons and decode-error kinds appear on first use,
  // still from their fixed sets.
  for (auto resource : {k8s::Resource::kPods, k8s::Resource::kEvents}) {
    for (auto type : {k8s::WatchType::kAdded, k8s::WatchType::kModified, k8s::WatchType::kDeleted,
                      k8s::WatchType::kBookmark, k8s::WatchType::kError, k8s::WatchType::kUnknown})
      event_counters_[static_cast<std::size_t>(resource)][static_cast<std::size_t>(type)] =
          &events.Add(
              {{"resource", k8s::resource_name(resource)}, {"type", watch_type_label(type)}});
    for (auto reason :
         {RestartReason::kTimeout, RestartReason::kConnection, RestartReason::kExpired})
      restart(resource, reason);
    relist(resource);
    watch_connected(resource);
  }
}

}  // namespace podmedic::watcher
