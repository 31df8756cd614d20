#pragma once
// Typed one-shot calls and request targets for the resources podmedic reads: pod and event
// collections (list/watch), pod logs and a pod's own events. Read-only by construction: only GETs.
#include <optional>
#include <string>
#include <vector>

#include "k8s/client.h"
#include "k8s/decode.h"

namespace podmedic::k8s {

enum class Resource { kPods, kEvents };
const char* resource_name(Resource r);

// /api/v1/pods or /api/v1/namespaces/{ns}/pods (likewise events).
std::string collection_path(Resource r, const std::string& ns);

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // empty: most recent (consistent read)
  std::string continue_token;
  int limit = 0;
};
std::string list_target(Resource r, const std::string& ns, const ListOptions& o);

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  int timeout_seconds = 0;
  bool bookmarks = true;
};
std::string watch_target(Resource r, const std::string& ns, const WatchOptions& o);

struct LogOptions {
  std::string container;
  bool previous = false;
  int tail_lines = -1;         // -1: not sent
  long long limit_bytes = -1;  // -1: not sent
};
std::string log_target(const std::string& ns, const std::string& pod, const LogOptions& o);

// A container's log text (raw bytes, maybe not UTF-8). "Waiting to start" and "previous
// terminated container not found" are not failures: they give `available=false` and the reason.
struct LogText {
  bool available = false;
  std::string text;
  std::string unavailable_reason;
};
net::awaitable<Result<LogText>> fetch_logs(KubeClient& client, std::string ns, std::string pod,
                                           LogOptions options);

// The pod's own events (field selector on involvedObject), newest first, at most `max`.
net::awaitable<Result<std::vector<EventView>>> fetch_pod_events(KubeClient& client,
                                                                Decoder& decoder, std::string ns,
                                                                std::string pod, std::string uid,
                                                                std::size_t max);

// Formats an API error for logs: "HTTP 403 Forbidden: pods is forbidden: ...".
std::string describe(const Status& st);

}  // namespace podmedic::k8s
