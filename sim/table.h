#pragma once
// Server-side printing as the apiserver does it for `kubectl get`: a client that sends
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` gets a meta.k8s.io/v1 Table instead
// of the list (or object). Pods: NAME, READY, STATUS, RESTARTS, AGE (+ IP, NODE, NOMINATED NODE,
// READINESS GATES at priority 1), with STATUS and READY computed as kubectl's pod printer does
// (CrashLoopBackOff, ImagePullBackOff, OOMKilled, Completed, Terminating, Running);
// events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (+ SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME).
// Each row carries the object's metadata (PartialObjectMetadata), from which kubectl prints the
// NAMESPACE column of -A. Pure functions of the stored JSON and `now` (Unix seconds).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/store.h"

namespace podmedic::sim {

// The media type of a Table answer.
inline constexpr const char* kTableContentType = "application/json;as=Table;v=v1;g=meta.k8s.io";

// True when one of the Accept header's media types is the v1 Table (kubectl also offers v1beta1
// and plain JSON as fallbacks).
bool wants_table(std::string_view accept);

// Go's duration.HumanDuration as kubectl prints ages: "45s", "5m10s", "3h", "2d4h".
std::string human_duration(std::int64_t seconds);

// kubectl's pod printer columns.
struct PodRow {
  std::string ready;     // "ready/total" containers
  std::string status;    // the waiting/terminated reason that wins, else the phase
  std::string restarts;  // "3 (2m ago)" or "0"
  std::string age;
};
PodRow pod_row(const nlohmann::json& pod, std::int64_t now);

// The Table for a pods or events body (a List or one object) as the store rendered it;
// nullopt for other resources or a body that is not such JSON.
std::optional<std::string> to_table(Res r, std::string_view body, std::int64_t now);

}  // namespace podmedic::sim
