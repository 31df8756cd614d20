#include "incidents/workload.h"

#include <algorithm>

namespace podmedic::incidents {

Workload resolve_workload(const k8s::PodView& pod, const Interner& in) {
  std::string kind(in.view(pod.owner_kind));
  std::string name(in.view(pod.owner_name));
  if (kind.empty() || name.empty()) return {"Pod", pod.name};
  if (kind == "ReplicaSet" && pod.template_hash != 0) {
    std::string suffix = "-" + std::string(in.view(pod.template_hash));
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return {"Deployment", name.substr(0, name.size() - suffix.size())};
    }
  }
  if (kind == "Job") {
    auto dash = name.rfind('-');
    if (dash != std::string::npos && dash > 0 && name.size() - dash - 1 >= 8 &&
        std::all_of(name.begin() + static_cast<long>(dash) + 1, name.end(), ::isdigit)) {
      return {"CronJob", name.substr(0, dash)};
    }
  }
  return {kind, name};
}

}  // namespace podmedic::incidents
