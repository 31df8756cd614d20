#pragma once
// Watcher: pods and Warning events of the configured scope (all namespaces, or a list; minus
// excluded ones; optional label selector for pods), each through its own Reflector into the
// shared PodStore and EventStore. synced() turns true once every initial list completed.
// Lives on the pipeline's io_context thread.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/task_group.h"
#include "watcher/event_store.h"
#include "watcher/pod_store.h"
#include "watcher/reflector.h"

namespace podmedic::watcher {

struct WatchSettings {
  std::vector<std::string> namespaces;  // empty: all
  std::vector<std::string> exclude_namespaces;
  std::string label_selector;
  EventStoreLimits event_limits;
  ReflectorOptions tuning;  // page size, timeouts, backoff (ns/selectors are filled in here)
};

class Watcher {
 public:
  Watcher(k8s::KubeClient& client, WatchSettings settings, PodStore& pods, EventStore& events,
          WatchMetrics& metrics);

  // Spawns the reflectors into `tasks`, which cancels and drains them when it stops.
  void start(TaskGroup& tasks);
  bool synced() const;
  const std::vector<std::unique_ptr<Reflector>>& reflectors() const { return reflectors_; }

 private:
  std::vector<std::unique_ptr<Reflector>> reflectors_;
};

}  // namespace podmedic::watcher
