#pragma once
// Incident: one broken workload (cluster + namespace + workload + container + reason), however
// many of its pods fail and however often they restart. Plain data with a JSON form shared by
// the state file, the webhook payload and /api/incidents.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/redacted.h"
#include "core/result.h"
#include "incidents/workload.h"

namespace podmedic::incidents {

struct PodRecord {
  std::uint32_t restarts = 0;      // restartCount when last seen failing or restarting
  std::int64_t healthy_since = 0;  // Unix seconds; 0 while failing or not yet healthy
};

// One thing a workload's rollout changed shortly before it started failing (PRODUCT.md
// "Severity, runbooks and changes"): field is image | command | args | env | configRef |
// resources; for env, from/to hold variable names and valueFrom references, never values.
struct Change {
  std::string field;
  std::string container;
  Redacted from;
  Redacted to;
  friend bool operator==(const Change&, const Change&) = default;
};

// The most changes one incident keeps (from the diff or from a state file).
inline constexpr std::size_t kMaxChanges = 32;

struct Incident {
  enum class State { kOpen, kResolved };
  std::string id;           // stable: derived from the fingerprint and the opening time
  std::string fingerprint;  // cluster/namespace/kind/name/container/reason
  std::string cluster;
  std::string ns;
  std::string reason;
  Workload workload;
  std::string container;
  std::map<std::string, PodRecord> pods;  // pods of this incident (joined, not yet gone)
  std::vector<std::string> all_pods;      // every pod that was part of it, for the record (bounded)
  std::uint32_t restarts = 0;             // highest restartCount seen
  std::int32_t exit_code = 0;
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::int64_t resolved_at = 0;
  std::int64_t last_notified = 0;  // when an opened/reminder message was last emitted; 0: never
  std::uint32_t flaps = 0;         // reopened within the hold-down
  // Text from the cluster or the LLM: only as the redactor returned it (core/redacted.h).
  Redacted message;    // the container's state message, bounded
  Redacted evidence;   // key log lines and events, bounded (may be empty)
  Redacted diagnosis;  // the LLM's explanation; empty: rules only
  std::string diagnosis_model;
  std::string severity;         // critical | warning | info (detect.severity)
  std::string runbook_url;      // detect.runbooks expanded for this incident; empty: none
  std::vector<Change> changes;  // what the rollout changed before the failure (bounded)
  bool pending_alert = false;   // announced by the tracker, not yet handed to the notifiers
  // Reopened within the flap hold-down after its resolution was announced, and nothing said
  // since: humans last heard "resolved", so its next resolution is silent too, and Alertmanager
  // is not told it fires again. Cleared by the next announcement (a reminder).
  bool quiet = false;
  State state = State::kOpen;

  bool open() const { return state == State::kOpen; }
};

std::string fingerprint(const std::string& cluster, const std::string& ns, const Workload& w,
                        const std::string& container, const std::string& reason);
std::string incident_id(const std::string& fingerprint, std::int64_t opened_at);

// The most pod names and pod records one incident takes from a state file (far above what the
// tracker itself keeps; a damaged file cannot make an incident unbounded).
inline constexpr std::size_t kMaxStoredPods = 20000;

// One JSON shape for an incident, built up in layers so the views agree on every field they
// share:
// - summary_json: the fields every view has, exactly the webhook payload's "incident" object
//   (PRODUCT.md fixes it): id, fingerprint, namespace, reason, workload {kind, name},
//   container, pods, restarts, exitCode, firstSeen, lastSeen, message.
// - diagnosis_json: the LLM's diagnosis {text, model, source: "llm"}; null when there is none.
// - to_json (the state file, the HA mirror): the summary plus cluster, activePods, evidence,
//   state, flaps, podState, lastNotified, resolvedAt (resolved), diagnosis (when there is one)
//   and pendingAlert (when set).
// - changes_json: the "changes" list of PRODUCT.md ([] when nothing changed).
// - to_json also carries severity, runbookUrl (when set) and changes.
// - api_json (one /api/incidents entry): to_json plus the facts line.
// The webhook body (notifiers/render.cpp) is the summary plus its own envelope.
nlohmann::json summary_json(const Incident& i);
nlohmann::json diagnosis_json(const Incident& i);
nlohmann::json changes_json(const Incident& i);
nlohmann::json to_json(const Incident& i);
nlohmann::json api_json(const Incident& i, const std::string& facts);
// A runbook URL template with {cluster}, {namespace}, {workload}, {container} and {reason}
// replaced by the incident's values, each percent-encoded (RFC 3986 unreserved characters kept).
std::string expand_runbook(std::string_view tmpl, const Incident& i);
// Why a runbook template cannot be used ("" when it can): an http(s) URL whose {placeholders}
// are all known.
std::string check_runbook_template(std::string_view tmpl);

// Reads what to_json wrote; an error names the first field of the wrong type or missing.
// Pod lists are capped at kMaxStoredPods entries whatever the file holds.
Result<Incident> from_json(const nlohmann::json& j);

}  // namespace podmedic::incidents
