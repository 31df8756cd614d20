#pragma once
// Prometheus instruments of the watch path. Counters/gauges are prometheus-cpp's (thread-safe
// atomics); this struct only groups the families so components take a reference, not a registry.
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace podmedic::watcher {

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

  prometheus::Counter& event(const std::string& resource, const std::string& type) {
    return events.Add({{"resource", resource}, {"type", type}});
  }
  prometheus::Counter& restart(const std::string& resource, const std::string& reason) {
    return restarts.Add({{"resource", resource}, {"reason", reason}});
  }
};

}  // namespace podmedic::watcher
