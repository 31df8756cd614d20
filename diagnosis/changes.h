#pragma once
// What a rollout changed: for a pod of a Deployment, StatefulSet or DaemonSet, the difference
// between the pod template of the workload's current revision and the previous one — image,
// command, args, env variable NAMES and valueFrom references (never env values: they are often
// secrets; a changed literal value shows as "NAME (value changed)"), ConfigMap/Secret references
// (envFrom, volumes) and resources. A change inside a ConfigMap's data cannot be seen: podmedic
// never reads ConfigMap contents.
//
// Read-only and bounded: one LIST of the namespace's ReplicaSets (Deployments: the revision is
// the deployment.kubernetes.io/revision annotation) or ControllerRevisions (StatefulSets,
// DaemonSets: the `revision` field, the template in `data`), at most kMaxItems items of at most
// kMaxListBytes. The parsing is a plain function of the list's bytes (untrusted: wrong types,
// nulls, huge numbers and garbage give an error value or skip the item, never an exception).
// The results are raw cluster text: the caller redacts them.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/result.h"
#include "k8s/client.h"

namespace podmedic::diagnosis {

struct ContainerSpec {
  std::string name;
  bool init = false;
  std::string image;
  std::vector<std::string> command, args;
  // Env variable name → where its value comes from: "" for a literal value, else the
  // reference ("secret db/password", "configMap app/url", "field metadata.name", ...).
  std::map<std::string, std::string> env;
  // Env name → a hash of its literal value: to say "value changed" without ever holding it.
  std::map<std::string, std::size_t> env_value_hash;
  std::set<std::string> env_from;                // "configMap app-config", "secret db"
  std::map<std::string, std::string> resources;  // "limits.memory" → "256Mi"
};

struct TemplateSpec {
  std::vector<ContainerSpec> containers;  // init containers first, in order; at most kMaxContainers
  std::set<std::string> volume_refs;      // "configMap app-config", "secret tls" (pod-level)
};

// A pod template ({"metadata": ..., "spec": ...}). An error when it is not an object with a
// `spec` object; fields of the wrong type inside are skipped.
Result<TemplateSpec> template_spec(const nlohmann::json& pod_template);

// One difference, raw (redact before any sink). field: image | command | args | env |
// configRef | resources. `from` empty: added; `to` empty: removed.
struct TemplateChange {
  std::string field, container, from, to;
};
// Ordered: images first, then command, args, env, configRef, resources; at most kMaxChanges.
std::vector<TemplateChange> diff_templates(const TemplateSpec& before, const TemplateSpec& after);

struct Revision {
  std::string name;          // ReplicaSet or ControllerRevision name
  std::int64_t number = 0;   // the revision
  std::int64_t created = 0;  // creationTimestamp, Unix seconds
  std::string owner;         // the controlling workload's name
  std::string owner_kind;    // Deployment, StatefulSet, DaemonSet
  TemplateSpec spec;
};

// The revisions a list body holds (a ReplicaSetList or ControllerRevisionList): items without
// a controller owner, a revision number or a template are skipped. An error when the body is
// not a JSON list.
Result<std::vector<Revision>> parse_revisions(std::string_view body);

struct RolloutChange {
  std::string revision;       // current revision's object name
  std::int64_t number = 0;    // current revision number
  std::int64_t created = 0;   // when it was created
  std::int64_t previous = 0;  // the previous revision number
  std::vector<TemplateChange> changes;
};

// The current revision (for a Deployment pod: its ReplicaSet `current`; otherwise the highest
// revision of `owner`) against the previous one (the highest lower number), when the current
// one was created at most `window_seconds` before `began` (and not after it). nullopt: no
// recent rollout, no previous revision, or nothing the diff looks at changed.
std::optional<RolloutChange> rollout_change(const std::vector<Revision>& revisions,
                                            std::string_view owner_kind, std::string_view owner,
                                            std::string_view current, std::int64_t began,
                                            std::int64_t window_seconds);

inline constexpr std::size_t kMaxChanges = 32;
inline constexpr std::size_t kMaxContainers = 32;
inline constexpr int kMaxItems = 500;
inline constexpr std::size_t kMaxListBytes = 32u << 20;

// LISTs the namespace's ReplicaSets (pod owner kind ReplicaSet) or ControllerRevisions
// (StatefulSet, DaemonSet) and parses them. An API error (403 without the RBAC rule) is an error
// value with the API's message.
boost::asio::awaitable<Result<std::vector<Revision>>> fetch_revisions(k8s::KubeClient& client,
                                                                      std::string ns,
                                                                      std::string pod_owner_kind);

}  // namespace podmedic::diagnosis
