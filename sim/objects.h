#pragma once
// Builders for realistic Kubernetes objects as the kubelet, scheduler and controllers write them:
// pods of 4-20 KB with managedFields, owner chains Deployment → ReplicaSet → Pod, and the status
// transitions of CrashLoopBackOff, OOMKilled and image pull failures. Pure functions.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace podmedic::sim {

struct PodTemplate {
  std::string ns = "default";
  std::string name;
  std::string deployment;  // when set, owned by ReplicaSet <deployment>-<hash>
  std::string rs_hash = "7d9f8b6c5d";
  std::string container = "app";
  std::string image = "registry.example.com/shop/app:1.4.2";
  std::string node = "node-1";
  std::string memory_limit = "256Mi";
  std::string cpu_request = "100m";
  int extra_env = 12;                      // env vars: grow the object towards real sizes
  std::map<std::string, std::string> env;  // more literal env vars (name → value)
  std::vector<std::string> args;           // the container's args (none when empty)
  // Without `deployment`: the pod's controller, e.g. {"StatefulSet", "db"} (none when empty).
  std::string controller_kind, controller;
  int managed_field_entries = 3;
  std::map<std::string, std::string> labels;
};

// A Running, Ready pod. `now` is Unix seconds.
nlohmann::json make_pod(const PodTemplate& t, std::int64_t now);
nlohmann::json make_replicaset(const std::string& ns, const std::string& deployment,
                               const std::string& hash, int replicas, std::int64_t now);
nlohmann::json make_deployment(const std::string& ns, const std::string& name, int replicas,
                               std::int64_t now);
nlohmann::json make_namespace(const std::string& name, std::int64_t now);

// Kubelet-style event (legacy fields: count, first/lastTimestamp, source) about a pod container.
nlohmann::json make_pod_event(const nlohmann::json& pod, const std::string& container,
                              const std::string& type, const std::string& reason,
                              const std::string& message, int count, std::int64_t now);
// Scheduler-style event (eventTime + series, null legacy timestamps).
nlohmann::json make_scheduler_event(const nlohmann::json& pod, const std::string& type,
                                    const std::string& reason, const std::string& message,
                                    std::int64_t now);

// Status transitions on container `c` of `pod` (in place).
void set_running(nlohmann::json& pod, const std::string& c, std::int64_t now);
// The container exited (exit code, reason Error/OOMKilled/Completed); restartCount+1 and it waits
// in CrashLoopBackOff with lastState.terminated filled, as the kubelet shows it.
void set_crashloop(nlohmann::json& pod, const std::string& c, int exit_code,
                   const std::string& reason, std::int64_t now);
// Terminated state still visible (before the back-off starts).
void set_terminated(nlohmann::json& pod, const std::string& c, int exit_code,
                    const std::string& reason, std::int64_t now);
// Not ready any more: the pod's Ready condition turns False at `now` (0: the transition keeps
// the condition's old time, for callers without a clock).
void set_waiting(nlohmann::json& pod, const std::string& c, const std::string& reason,
                 const std::string& message, std::int64_t now = 0);
void set_deleting(nlohmann::json& pod, std::int64_t now);

std::string pod_uid(const nlohmann::json& pod);

// Rollouts and nodes (the facts of issue 16).
// A Node with the kubelet's conditions; MemoryPressure True when `memory_pressure`, changed at
// `pressure_since`.
nlohmann::json make_node(const std::string& name, bool memory_pressure,
                         std::int64_t pressure_since);
// A kubelet event about a node (SystemOOM, EvictionThresholdMet, ...), in namespace default.
nlohmann::json make_node_event(const std::string& node, const std::string& type,
                               const std::string& reason, const std::string& message,
                               std::int64_t now);
// The pod template of `t` ({"metadata": {labels}, "spec": ...}) as a controller holds it.
nlohmann::json make_pod_template(const PodTemplate& t);
// Revision `revision` of Deployment t.deployment: ReplicaSet <deployment>-<t.rs_hash> with the
// deployment.kubernetes.io/revision annotation, spec.template from `t`, created at `created`.
nlohmann::json make_revision_replicaset(const PodTemplate& t, int revision, int replicas,
                                        std::int64_t created);
// Revision `revision` of a StatefulSet or DaemonSet: ControllerRevision <owner>-<hash> whose
// data holds the template from `t` (as the controllers write it).
nlohmann::json make_controller_revision(const PodTemplate& t, const std::string& owner_kind,
                                        const std::string& owner, const std::string& hash,
                                        int revision, std::int64_t created);

}  // namespace podmedic::sim
