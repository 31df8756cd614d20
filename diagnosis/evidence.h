#pragma once
// Evidence for one pod, as a good SRE would gather it: the pod summary (phase, owner, node,
// container state and lastState with exit codes and their meaning, restarts, image,
// requests/limits), the pod's own recent events (field selector, not the namespace's), and the
// previous container's logs when it restarted plus the current tail, each cut to a byte budget
// that keeps error-looking lines and the tail. Gathering runs on the pipeline's io_context.
// The text is NOT redacted here: callers pass it through a Redactor before it leaves.
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/interner.h"
#include "k8s/api.h"
#include "rules/detect.h"

namespace podmedic::diagnosis {

struct LogBudget {
  std::uint64_t fetch_bytes = 2 * 1024 * 1024;  // limitBytes of each log request
  std::uint64_t max_bytes = 8000;               // kept per container log after selection
};

// Sanitizes (UTF-8), cuts huge lines, and keeps error-looking lines plus the tail within
// `max_bytes`, in their original order, marking what was left out.
std::string select_log_lines(std::string_view raw, std::size_t max_bytes);

struct ContainerLogs {
  std::string container;
  std::string previous;  // selected lines of the last terminated instance (empty if none)
  std::string current;   // selected tail of the running/waiting instance
  std::string note;      // why a log is missing ("waiting to start", an error)
};

struct Evidence {
  std::string ns, pod;
  std::string summary;                     // pod and container states
  std::vector<rules::Finding> findings;    // failing containers now
  std::vector<std::string> findings_text;  // one line each, rules-based facts
  std::vector<std::string> events;         // newest first
  std::vector<ContainerLogs> logs;
  std::string text() const;  // everything, sectioned, for a terminal or a prompt
};

boost::asio::awaitable<Result<Evidence>> gather_pod(k8s::KubeClient& client, Interner& interner,
                                                    const rules::Detector& detector, std::string ns,
                                                    std::string pod, LogBudget budget);

// Pods of the namespace that are failing now (at most `max`), for `diagnose NAMESPACE`.
boost::asio::awaitable<Result<std::vector<std::string>>> failing_pods(
    k8s::KubeClient& client, Interner& interner, const rules::Detector& detector, std::string ns,
    std::size_t max);

}  // namespace podmedic::diagnosis
