#pragma once
// Compact views of Kubernetes objects: only the fields detection and diagnosis need, with repeated
// strings interned. No JSON trees are kept. Plain data; thread-safety is the owner's.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/interner.h"

namespace podmedic::k8s {

enum class WatchType : std::uint8_t { kAdded, kModified, kDeleted, kBookmark, kError, kUnknown };
const char* to_string(WatchType t);

struct ContainerState {
  enum Kind : std::uint8_t { kNone, kWaiting, kRunning, kTerminated };
  Kind kind = kNone;
  Sym reason = 0;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;       // terminated.signal when the runtime reports it, else 0
  std::int64_t started_at = 0;   // Unix seconds, 0 = unset
  std::int64_t finished_at = 0;  // Unix seconds, 0 = unset
  bool operator==(const ContainerState&) const = default;
};

struct ContainerView {
  Sym name = 0;
  Sym image = 0;
  Sym mem_request = 0, mem_limit = 0, cpu_request = 0, cpu_limit = 0;  // quantities as written
  std::uint32_t restart_count = 0;
  bool init = false;  // an init container
  bool ready = false;
  bool has_status = false;  // the kubelet reported a status for it
  ContainerState state;
  ContainerState last;       // lastState (terminated), kind kNone until the first restart
  std::string message;       // message of `state` (waiting/terminated), bounded; empty if running
  std::string last_message;  // lastState.terminated.message (the termination message), bounded
};

struct PodView {
  Sym ns = 0;
  std::string name;
  std::string uid;
  std::string resource_version;
  Sym phase = 0;
  Sym reason = 0;  // status.reason, e.g. Evicted
  Sym node = 0;
  Sym restart_policy = 0;
  Sym owner_kind = 0;  // controller ownerReference kind (ReplicaSet, StatefulSet, Job, ...)
  Sym owner_name = 0;
  Sym template_hash = 0;  // label pod-template-hash (ReplicaSet <deployment>-<hash>)
  std::int64_t created = 0;
  std::int64_t deleting_since = 0;        // metadata.deletionTimestamp, 0 if not being deleted
  bool opted_out = false;                 // annotation podmedic.io/ignore: "true"
  bool ready = false;                     // condition Ready=True
  std::uint32_t mark = 0;                 // owner's bookkeeping (relist generation)
  std::string status_message;             // status.message (evictions), bounded
  std::vector<ContainerView> containers;  // init containers first, then app containers

  void clear();
};

// A core/v1 Event about some object. Only Warning events about pods are kept by the watcher.
struct EventView {
  Sym ns = 0;
  std::string name;  // the Event object's own name
  std::string resource_version;
  Sym involved_kind = 0;
  std::string involved_name;
  std::string involved_uid;
  std::string field_path;  // e.g. spec.containers{app}
  Sym reason = 0;
  Sym type = 0;         // Normal | Warning
  Sym source = 0;       // reportingComponent or source.component
  std::string message;  // bounded
  std::int32_t count = 1;
  std::int64_t first_seen = 0;
  std::int64_t last_seen =
      0;  // lastTimestamp → series.lastObservedTime → eventTime → firstTimestamp → creation
  std::uint32_t mark = 0;

  void clear();
};

constexpr std::size_t kMaxMessageBytes = 512;

// Calls f(sym) for every symbol a view holds: what a store marks for Interner::collect(). Keep in
// step with the structs above: a symbol left out here is freed under a store that still holds it.
template <class F>
void for_each_sym(const PodView& p, F&& f) {
  for (Sym s : {p.ns, p.phase, p.reason, p.node, p.restart_policy, p.owner_kind, p.owner_name,
                p.template_hash})
    f(s);
  for (const auto& c : p.containers) {
    for (Sym s : {c.name, c.image, c.mem_request, c.mem_limit, c.cpu_request, c.cpu_limit,
                  c.state.reason, c.last.reason})
      f(s);
  }
}

template <class F>
void for_each_sym(const EventView& e, F&& f) {
  for (Sym s : {e.ns, e.involved_kind, e.reason, e.type, e.source}) f(s);
}

}  // namespace podmedic::k8s
