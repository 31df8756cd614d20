#pragma once
// KubeClient: HTTP/1.1 GETs against the API server over TCP or TLS (Boost.Beast on Asio C++20
// coroutines), with bearer tokens from the connection's TokenSource (one retry with a fresh token
// after a 401). Every request opens its own connection; responses are bounded. Transport failures
// and HTTP statuses come back as values. With a PeerErrors, every unusable answer is counted once
// under peer="apiserver": transport, timeout, oversized body, bad Retry-After and 5xx here;
// unexpected 4xx and undecodable bodies by the callers (via peer_errors()). Call only from the
// owning io_context's thread.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/peer_errors.h"
#include "core/result.h"
#include "core/text.h"
#include "k8s/connection.h"

namespace podmedic::k8s {

namespace net = boost::asio;

struct HttpResponse {
  int status = 0;
  std::string body;  // whole body for one-shot calls and for non-200 stream responses
  std::string content_type;
  int retry_after_seconds = -1;  // Retry-After (integer seconds), -1 if absent
  bool stopped = false;          // the stream sink asked to stop
};

// Receives body bytes of a 200 streaming response as they arrive; returns false to stop.
using BodySink = std::function<bool(std::string_view)>;

class KubeClient {
 public:
  // `peer_errors` (may be null; must outlive the client) is also handed to the connection's
  // TokenSource, so exec credential plugin faults count under peer="exec".
  KubeClient(net::any_io_executor ex, ClusterConnection conn, PeerErrors* peer_errors = nullptr);
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  // One-shot GET of `target` (path + query, below the server's base path). A body over
  // `max_body` bytes is an error. `timeout` bounds the whole exchange.
  net::awaitable<Result<HttpResponse>> get(std::string target, std::size_t max_body,
                                           std::chrono::milliseconds timeout);

  // Streaming GET (watch): a 200 body goes to `sink` as it arrives, until the server ends the
  // response (Ok with stopped=false), the sink stops it, or `max_duration` passes (error
  // "timeout"). A non-200 response is returned whole, bounded, without calling the sink.
  net::awaitable<Result<HttpResponse>> stream(std::string target, BodySink sink,
                                              std::chrono::milliseconds max_duration);

  // One-shot POST/PUT of a JSON body (leader election's Lease and its state ConfigMap: the only
  // writes podmedic makes, and only with ha.enabled).
  net::awaitable<Result<HttpResponse>> send(std::string method, std::string target,
                                            std::string json_body, std::size_t max_body,
                                            std::chrono::milliseconds timeout);

  const ClusterConnection& connection() const { return conn_; }
  // Where callers count the API server's faults they detect; null when not wired.
  PeerErrors* peer_errors() const { return peer_errors_; }

 private:
  struct Tls;
  struct Write {
    std::string method;
    std::string body;
  };
  net::awaitable<Result<HttpResponse>> request(std::string target, std::size_t max_body,
                                               const BodySink* sink,
                                               std::chrono::milliseconds timeout,
                                               const Write* write = nullptr);
  net::awaitable<Result<HttpResponse>> request_once(std::string target, std::size_t max_body,
                                                    const BodySink* sink,
                                                    std::chrono::milliseconds timeout,
                                                    const Write* write);
  net::any_io_executor ex_;
  ClusterConnection conn_;
  std::unique_ptr<Tls> tls_;
  PeerErrors* peer_errors_ = nullptr;
};

// Query helpers.
inline std::string url_encode(std::string_view s) {
  return text::percent_encode(s);
}

}  // namespace podmedic::k8s
