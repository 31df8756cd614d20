#pragma once
// Facts beyond logs, as words: how a container last ended (reason, exit code and its meaning,
// signal, how long it ran), its init containers, what a probe failure event means, whether an
// OOM kill was the container's own limit or the node running out, and what a rollout changed.
// Pure functions of compact views and plain values (no I/O, no clock): the evidence
// (diagnosis/) and the incident's facts line (incidents/) say the same thing. The texts they
// return quote cluster strings (termination messages, event messages, images): callers redact
// before any sink.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/interner.h"
#include "k8s/objects.h"

namespace podmedic::rules {

// "2 s", "3 min 20 s", "3 h 5 min", "2 d 4 h".
std::string human_duration(std::int64_t seconds);

// The signal behind a termination: `signal` when the runtime reported it, else exit codes
// 129..159 read as 128 + N. 0: none. Named for the common ones ("SIGKILL"), else "signal N".
int termination_signal(const k8s::ContainerState& terminated);
std::string signal_name(int signal);

// A container's last termination (its lastState, or its state while still terminated), in one
// line: "Error, exit 1 (application error), crashed 2 s after start (at start-up)" or
// "OOMKilled, exit 137 (SIGKILL: out of memory or killed), signal 9 (SIGKILL), after running
// 3 h". Empty when it never terminated. Start-up means it ran less than kStartupSeconds.
inline constexpr std::int64_t kStartupSeconds = 10;
std::string last_termination(const k8s::ContainerView& c, const Interner& in);
// How long the container ran before its last termination: "crashed 2 s after start (at
// start-up)", "after running 3 h"; empty when unknown.
std::string run_time(const k8s::ContainerView& c);
// Its termination message (lastState, or state while terminated); empty if none. Cluster text.
const std::string& termination_message(const k8s::ContainerView& c);

// One line per init container that has not completed: "init container migrate: terminated:
// Error, exit 1 (...), crashed 3 s after start, 4 restarts; the app containers wait for it",
// or "init container wait-db: running for 5 min; the app containers wait for it".
std::vector<std::string> init_container_facts(const k8s::PodView& pod, const Interner& in);

// What an `Unhealthy` (or `Killing`) event says about probes, e.g. "killed by its liveness
// probe" for "Liveness probe failed: ...". nullopt when the event is not about a probe.
std::optional<std::string> probe_meaning(std::string_view reason, std::string_view message);

// The node's memory state around an OOM kill, as gathered from the API.
struct NodeMemory {
  bool known = false;           // the node was read (else `unknown_why` says why not)
  std::string unknown_why;      // e.g. "watch.namespaces is set: nodes are cluster-scoped"
  std::string memory_pressure;  // the MemoryPressure condition's status: True, False, Unknown, ""
  std::int64_t pressure_since = 0;           // its lastTransitionTime
  std::vector<std::string> node_oom_events;  // "SystemOOM (x2): ..." near the kill, newest first
};
// "the container hit its own memory limit (limit 256Mi, request 128Mi); node node-1 reported no
// memory pressure" vs "node node-1 ran out of memory (MemoryPressure True since ..., SystemOOM
// ...): the node, not only the container's own limit, caused the kill". `limit`/`request`: the
// quantities as written, empty when unset.
std::string oom_verdict(std::string_view limit, std::string_view request, std::string_view node,
                        const NodeMemory& mem);
// The node events that tell a node ran short of memory (SystemOOM, OOMKilling,
// EvictionThresholdMet, NodeHasInsufficientMemory, Evicted).
bool node_memory_event(std::string_view reason);

// One change a rollout made to a pod template. `from`/`to` are empty when the item was added /
// removed. Env entries carry variable names and valueFrom references, never values.
// field: image | command | args | env | configRef | resources.
std::string change_phrase(std::string_view field, std::string_view container, std::string_view from,
                          std::string_view to);
// "image api:1.9.1 (was api:1.9.0); env DB_HOST added", from anything with field, container,
// from and to members (strings or Redacted); at most kMaxPhrases phrases, then "and N more".
inline constexpr std::size_t kMaxPhrases = 6;
template <class Change>
std::string describe_changes(const std::vector<Change>& changes) {
  std::string s;
  std::size_t n = 0;
  for (const auto& c : changes) {
    if (n == kMaxPhrases) {
      s += "; and " + std::to_string(changes.size() - n) + " more";
      break;
    }
    const std::string& from = c.from;
    const std::string& to = c.to;
    s += (n++ ? "; " : "") + change_phrase(c.field, c.container, from, to);
  }
  return s;
}

}  // namespace podmedic::rules
