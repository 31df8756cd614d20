#pragma once
// Blocking HTTP with libcurl, for worker threads (never the pipeline thread): notifier
// deliveries, LLM calls, and tests acting as HTTP clients.
// TLS verification stays on. Thread-safe: each call uses its own easy handle.
// Every call can be aborted from another thread through a Cancel token (shutdown must not wait
// for a receiver or an LLM that never answers).
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace podmedic::http {

// A cancellation token for blocking transfers, shared by the callers that should stop together
// (a notifier worker, an LLM client). cancel() from any thread makes every transfer using the
// token end within kCancelLatency with PostResult::cancelled set, and any later transfer with it
// fail at once. Sticky: it is never un-cancelled (make a new one instead). Thread-safe.
class Cancel {
 public:
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};
// How often a transfer in progress looks at its token, at most (also while the peer is silent).
constexpr std::chrono::milliseconds kCancelLatency{100};

struct PostResult {
  int status = 0;                 // 0: no HTTP response (transport error or timeout)
  std::string body;               // bounded to 4 KiB
  long retry_after_seconds = -1;  // Retry-After as seconds or HTTP-date, -1 if absent
  // A Retry-After header was present but unusable: garbage (then retry_after_seconds is -1) or
  // at/beyond kMaxRetryAfterSeconds (then it is capped). Callers count it as a bad header.
  bool retry_after_unusable = false;
  std::string error;  // transport error text
  std::string content_type;
  // The transfer was aborted through its Cancel token (status 0, error "cancelled"): not the
  // peer's fault, never counted against it, and the request may or may not have reached it.
  bool cancelled = false;
};

// `cancel` (optional, must outlive the call) aborts the transfer from another thread.
PostResult post(const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, std::chrono::milliseconds timeout,
                const Cancel* cancel = nullptr);
// Any method (GET sends no body). Same bounds, TLS rules and cancellation as post().
// `ca_file` (optional): a PEM bundle that replaces the system's trusted CAs for https.
PostResult request(const std::string& method, const std::string& url,
                   const std::vector<std::string>& headers, const std::string& body,
                   std::chrono::milliseconds timeout, std::size_t max_body = 4096,
                   const Cancel* cancel = nullptr, const std::string& ca_file = {});

// Parses a Retry-After value: delta-seconds or an HTTP-date (RFC 9110); -1 if invalid. Values
// beyond kMaxRetryAfterSeconds (a 20-digit number, a date in the year 9999) are capped to it.
constexpr long kMaxRetryAfterSeconds = 86400;
long parse_retry_after(const std::string& value, long now_unix);

}  // namespace podmedic::http
