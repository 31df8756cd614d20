#pragma once
// Blocking HTTP with libcurl, for worker threads (never the pipeline thread): notifier
// deliveries, LLM calls, and tests acting as HTTP clients.
// TLS verification stays on. Thread-safe: each call uses its own easy handle.
#include <chrono>
#include <string>
#include <vector>

namespace podmedic::http {

struct PostResult {
  int status = 0;                 // 0: no HTTP response (transport error or timeout)
  std::string body;               // bounded to 4 KiB
  long retry_after_seconds = -1;  // Retry-After as seconds or HTTP-date, -1 if absent
  // A Retry-After header was present but unusable: garbage (then retry_after_seconds is -1) or
  // at/beyond kMaxRetryAfterSeconds (then it is capped). Callers count it as a bad header.
  bool retry_after_unusable = false;
  std::string error;  // transport error text
  std::string content_type;
};

PostResult post(const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, std::chrono::milliseconds timeout);
// Any method (GET sends no body). Same bounds and TLS rules as post().
PostResult request(const std::string& method, const std::string& url,
                   const std::vector<std::string>& headers, const std::string& body,
                   std::chrono::milliseconds timeout, std::size_t max_body = 4096);

// Parses a Retry-After value: delta-seconds or an HTTP-date (RFC 9110); -1 if invalid. Values
// beyond kMaxRetryAfterSeconds (a 20-digit number, a date in the year 9999) are capped to it.
constexpr long kMaxRetryAfterSeconds = 86400;
long parse_retry_after(const std::string& value, long now_unix);

}  // namespace podmedic::http
