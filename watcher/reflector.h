#pragma once
// Reflector: keeps one store in step with one API collection, as client-go's reflector does:
// paged list → watch from the list's resourceVersion (bookmarks, random timeoutSeconds) →
// on clean end re-watch from the last RV → on 410 (ERROR event or HTTP) relist at once, and the
// store synthesizes DELETED for what vanished → jittered exponential backoff on failures only,
// honouring Retry-After, reset by a watch that delivered objects. A 410 is not a failure unless
// it ends the first watch after a relist without delivering anything (a server expiring every
// watch must not make us relist in a loop). Malformed, oversized or unknown lines are counted and
// skipped: whatever the decoder returns (any code, any type name, any resourceVersion) only ever
// ends one line or one attempt. Faults of the API server are counted in the client's PeerErrors
// when it has one. Runs as one coroutine on the pipeline's io_context; not thread-safe.
#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/backoff.h"
#include "core/log.h"
#include "core/peer_errors.h"
#include "k8s/api.h"
#include "k8s/client.h"
#include "watcher/metrics.h"

namespace podmedic::watcher {

namespace net = boost::asio;

// The store side of a reflector.
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // When the bytes being applied arrived (set by the reflector before each apply call), so
  // listeners can measure detection latency from the wire.
  std::chrono::steady_clock::time_point received_at{};
  virtual void begin_list() = 0;
  // `body` has k8s::kJsonPadding spare capacity.
  virtual Result<k8s::ListMeta> apply_list_page(std::string_view body, std::size_t capacity) = 0;
  // Removes what the completed list did not contain (emitting DELETED).
  virtual void end_list() = 0;
  // Applies one watch line; ADDED/MODIFIED/DELETED change the store, BOOKMARK/ERROR do not.
  virtual Result<k8s::WatchHeader> apply_watch_line(std::string_view line,
                                                    std::size_t capacity) = 0;
};

// resourceVersions and continue tokens go back into request URLs; longer ones are unusable.
inline constexpr std::size_t kMaxResourceVersionBytes = 256;
inline constexpr std::size_t kMaxContinueBytes = 8192;

struct ReflectorOptions {
  std::string ns;  // empty: all namespaces
  std::string label_selector;
  std::string field_selector;
  int page_size = 500;
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::seconds max_watch_timeout{600};
  BackoffPolicy backoff;
  // A server's Retry-After is honoured up to this (one 503 with an absurd hint must not blind
  // the watch for minutes); 30 s, client-go's backoff cap.
  std::chrono::milliseconds max_retry_after{30'000};
  std::size_t max_line_bytes = 4u << 20;
  std::size_t max_list_bytes = 512u << 20;
};

class Reflector {
 public:
  Reflector(k8s::KubeClient& client, k8s::Resource resource, ReflectorOptions options,
            ReflectorSink& sink, WatchMetrics& metrics);

  // Runs until the io_context stops. Never throws for expected failures.
  net::awaitable<void> run();

  bool synced() const { return synced_; }
  const std::string& resource_version() const { return rv_; }
  std::uint64_t lists() const { return lists_; }
  std::uint64_t watches() const { return watches_; }

 private:
  enum class End { kOk, kClean, kExpired, kRetry, kShortWatch };
  struct Outcome {
    End end = End::kOk;
    std::chrono::milliseconds retry_after{0};
    bool delivered = false;  // a watch applied at least one ADDED/MODIFIED/DELETED
  };
  net::awaitable<Outcome> list_all();
  net::awaitable<Outcome> watch_once();
  // Counts, logs (rate-limited) and classifies a failed list/watch: 410 → relist, else back off.
  // `status_counted`: the client already counted this HTTP status (5xx).
  Outcome failure(const char* what, const k8s::Status& st, bool status_counted = false);
  void count_peer(PeerFault fault);
  Outcome http_failure(const char* what, const k8s::HttpResponse& r);
  std::string name() const;

  k8s::KubeClient& client_;
  k8s::Resource resource_;
  ReflectorOptions opts_;
  ReflectorSink& sink_;
  WatchMetrics& metrics_;
  Backoff backoff_;
  std::string rv_;
  bool synced_ = false;
  std::uint64_t lists_ = 0, watches_ = 0;
  log::RateLimited logs_;
};

}  // namespace podmedic::watcher
