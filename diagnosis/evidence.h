#pragma once
// Evidence for one pod, as a good SRE would gather it: the pod summary (phase, owner, node,
// container state and lastState with exit codes and their meaning, restarts, image,
// requests/limits), the pod's own recent events (field selector, not the namespace's), and the
// previous container's logs when it restarted plus the current tail, each cut to a byte budget
// that keeps error-looking lines and the tail. Gathering runs on the pipeline's io_context.
// Redaction comes first: every text gathered (pod and container status messages, termination
// and waiting messages, event messages, and each log whole as fetched, up to fetch_bytes) goes
// through one RedactionSession together, BEFORE the logs are selected, cut and de-duplicated,
// so a cut can never separate a key from its value or drop a PEM BEGIN line, and a secret seen
// in one of them is masked in all.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/interner.h"
#include "diagnosis/changes.h"
#include "diagnosis/redact.h"
#include "k8s/api.h"
#include "rules/detect.h"

namespace podmedic::diagnosis {

struct LogBudget {
  std::uint64_t fetch_bytes = 2 * 1024 * 1024;  // limitBytes of each log request
  std::uint64_t max_bytes = 8000;               // kept per container log after selection
};

// The lines of a crash log that explain it, within `max_bytes` (never more), in their original
// order with "[… N lines left out …]" and "[×N similar lines]" markers: the first error and the
// fatal lines with a little context and compact stack traces, then other errors, then the tail;
// repeated templates as their first and last occurrence; ANSI codes and \r redraws removed, JSON
// lines reduced to level, message and error fields, long lines cut around their error part,
// valid UTF-8. Linear time (diagnosis/log_select.cpp; docs/diagnosis.md). Pass it redacted text:
// it cuts lines, so run on raw text it could cut a secret away from the key that announces it.
std::string select_log_lines(std::string_view raw, std::size_t max_bytes);

struct ContainerLogs {
  std::string container;
  std::string previous;  // selected lines of the last terminated instance (empty if none)
  std::string current;   // selected tail of the running/waiting instance
  std::string note;      // why a log is missing ("waiting to start", an error)
};

// One change of the workload's latest rollout (TemplateChange, redacted). The container name is
// cluster text too: it went through the same session.
struct EvidenceChange {
  std::string field;
  std::string container;
  Redacted from, to;
};

struct FactSettings {
  // False with namespaced Roles only (watch.namespaces): nodes are cluster-scoped, so node facts
  // are skipped and `node_facts_off` says why in the evidence.
  bool node_facts = true;
  std::string node_facts_off;
  std::int64_t change_window_seconds = 30 * 60;  // diagnosis.changeWindow
};

// Where the revisions of a namespace's workloads come from (EvidenceSource: a bounded cache over
// fetch_revisions). Null: fetch_revisions each time.
using RevisionLookup = std::function<boost::asio::awaitable<Result<std::vector<Revision>>>(
    std::string ns, std::string pod_owner_kind)>;

struct Evidence {
  std::string ns, pod;
  std::string summary;  // pod and container states
  // Failing containers now. Their symbols are safe for one interner period (core/interner.h);
  // use key_container to keep a name longer.
  std::vector<rules::Finding> findings;
  std::string key_container;  // the first failing container's name (empty: none)
  std::string node;           // the pod's node (empty: not scheduled)
  std::string workload;  // the owning workload's name (EvidenceSource fills it; for name masking)
  std::vector<std::string> findings_text;  // one line each, rules-based facts
  // Facts beyond logs, one line each: terminations, termination messages, init containers,
  // probes, memory and node (rules/facts.h).
  std::vector<std::string> facts;
  // What the latest rollout changed, in words ("started failing 90 s after the rollout to
  // revision 3: image api:1.9.1 (was api:1.9.0); env DB_HOST added"); empty: nothing seen (or a
  // note why the revisions could not be read, with `changes` empty).
  std::string change;
  std::vector<EvidenceChange> changes;
  std::vector<std::string> events;  // newest first
  std::vector<ContainerLogs> logs;
  // The session every field above went through (never null after gather_pod). Pass the
  // incident's other texts through it (the watcher's termination message, the LLM's answer) so
  // the secrets found here are masked there too.
  std::shared_ptr<RedactionSession> session;
  std::string text() const;  // everything, sectioned, for a terminal or a prompt
};

// The part of a pod's evidence its object holds, read at once from a decoded or cached view:
// plain strings afterwards, so nothing refers to the view (or its symbols) across an await.
struct PodFacts {
  // ns, pod, summary, findings, findings_text, facts (terminations, init containers),
  // key_container, node (raw)
  Evidence evidence;
  std::string uid;
  std::string owner_kind, owner_name;  // the controller ownerReference (ReplicaSet, StatefulSet…)
  // When the failure began, as far as the pod tells: the key container's last termination, else
  // 0 (complete_evidence then takes now).
  std::int64_t began = 0;
  struct Oom {
    std::string container, limit, request;  // quantities as written, empty when unset
    std::int64_t killed_at = 0;
  };
  std::optional<Oom> oom;  // the first OOMKilled finding
  struct Container {
    std::string name;
    bool previous = false;  // restarted or terminated: its previous instance has logs
  };
  std::vector<Container> containers;
};
PodFacts pod_facts(const k8s::PodView& view, const Interner& interner,
                   const rules::Detector& detector);

// GET of one pod, decoded into a view with `interner`'s symbols. An API error (404 included) is
// an error value with the API's message ("HTTP 404 NotFound: pods \"ghost\" not found").
boost::asio::awaitable<Result<k8s::PodView>> get_pod(k8s::KubeClient& client, Interner& interner,
                                                     std::string ns, std::string pod);

// Completes `facts` with the pod's own events (and the probe facts they hold), its containers'
// logs, for OOMKilled the node's memory state, and the latest rollout's changes, from the API;
// then redacts every text through `session` (null: a fresh one over the built-in rules) before
// the logs are selected. `now` (Unix seconds) stands for when the failure began when the pod
// does not tell.
boost::asio::awaitable<Result<Evidence>> complete_evidence(
    k8s::KubeClient& client, Interner& interner, PodFacts facts, LogBudget budget,
    std::shared_ptr<RedactionSession> session, FactSettings settings = {},
    RevisionLookup revisions = {}, std::int64_t now = 0);

// The redacted evidence of one pod (get_pod, pod_facts, complete_evidence). `session` is the
// incident's RedactionSession: texts already passed through it lend their secrets to this evidence.
// Null: a fresh session over the built-in rules only (a caller with diagnosis.redact.patterns must
// pass its own).
boost::asio::awaitable<Result<Evidence>> gather_pod(k8s::KubeClient& client, Interner& interner,
                                                    const rules::Detector& detector, std::string ns,
                                                    std::string pod, LogBudget budget,
                                                    std::shared_ptr<RedactionSession> session = {});

// The Redactor with the built-in rules only, built once (for callers without a configured one).
const Redactor& builtin_redactor();

// Pods of the namespace that are failing now (at most `max`, in the API's order: by name), for
// `diagnose NAMESPACE`. Lists in pages of `page_size` (limit/continue) and stops at the page
// that completes `max`.
boost::asio::awaitable<Result<std::vector<std::string>>> failing_pods(
    k8s::KubeClient& client, Interner& interner, const rules::Detector& detector, std::string ns,
    std::size_t max, int page_size = 500);

}  // namespace podmedic::diagnosis
