#include "watcher/watcher.h"

namespace podmedic::watcher {

Watcher::Watcher(k8s::KubeClient& client, WatchSettings settings, PodStore& pods,
                 EventStore& events, WatchMetrics& metrics) {
  // Excluded namespaces are filtered by the server (metadata.namespace!=x is a valid field
  // selector for pods and events), so their objects never cross the wire.
  std::string exclude;
  for (const auto& ns : settings.exclude_namespaces) {
    exclude += (exclude.empty() ? "" : ",") + std::string("metadata.namespace!=") + ns;
  }
  std::vector<std::string> scopes = settings.namespaces;
  if (scopes.empty()) scopes.push_back("");
  for (const auto& ns : scopes) {
    ReflectorOptions po = settings.tuning;
    po.ns = ns;
    po.label_selector = settings.label_selector;
    po.field_selector = exclude;
    reflectors_.push_back(
        std::make_unique<Reflector>(client, k8s::Resource::kPods, po, pods, metrics));
    ReflectorOptions eo = settings.tuning;
    eo.ns = ns;
    // Only Warning events about pods are kept: ask the server for just those.
    eo.field_selector =
        "type=Warning,involvedObject.kind=Pod" + (exclude.empty() ? "" : "," + exclude);
    reflectors_.push_back(
        std::make_unique<Reflector>(client, k8s::Resource::kEvents, eo, events, metrics));
  }
}

void Watcher::start(TaskGroup& tasks) {
  for (auto& r : reflectors_) tasks.spawn("reflector", r->run());
}

bool Watcher::synced() const {
  for (const auto& r : reflectors_) {
    if (!r->synced()) return false;
  }
  return true;
}

}  // namespace podmedic::watcher
