#pragma once
// Which workload owns a pod, from its controller ownerReference, following the controllers'
// naming contracts instead of extra API calls: a ReplicaSet named <deployment>-<hash> whose pods
// carry pod-template-hash=<hash> belongs to Deployment <deployment>; a Job named
// <cronjob>-<8+ digits> (the scheduled minute) belongs to CronJob <cronjob>. StatefulSet,
// DaemonSet and other owners are the workload themselves; a pod without owner is its own.
// Pure; thread-safe.
#include <string>

#include "core/interner.h"
#include "k8s/objects.h"

namespace podmedic::incidents {

struct Workload {
  std::string kind;
  std::string name;
  bool operator==(const Workload&) const = default;
};

Workload resolve_workload(const k8s::PodView& pod, const Interner& in);

}  // namespace podmedic::incidents
