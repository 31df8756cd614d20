#include "watcher/metrics.h"

namespace podmedic::watcher {

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
                         .Add({})) {
  // Series that exist from the start (at zero), so dashboards and alerts see them before the
  // first event or failure.
  for (const char* resource : {"pods", "events"}) {
    for (const char* type : {"ADDED", "MODIFIED", "DELETED"}) event(resource, type);
    for (const char* reason : {"timeout", "connection", "expired"}) restart(resource, reason);
    relists.Add({{"resource", resource}});
  }
}

}  // namespace podmedic::watcher
