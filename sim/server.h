#pragma once
// ApiServer: a simulated kube-apiserver over HTTP/1.1 (Beast) that follows
// reference/protocols.md: discovery, list with paging and selectors, chunked watch streams
// (several events per chunk, events split across chunks), bookmarks, timeoutSeconds, 410
// expiry, sendInitialEvents, pod logs with previous/tailLines/limitBytes, bearer-token auth,
// optional TLS, and fault injection. Used by the tests, the benchmarks and `podmedic demo`.
// Every method must be called on the io_context's thread (use post() from elsewhere).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "sim/store.h"

namespace podmedic::sim {

namespace net = boost::asio;

struct ServerOptions {
  std::string token;  // required bearer token; empty: no authentication
  bool tls = false;
  std::size_t history_limit = 10000;
  std::chrono::milliseconds bookmark_interval{60'000};
  bool split_chunks = true;  // split each flushed batch of events across two chunks
};

struct Fault {
  std::string path_prefix;  // matched against the request path (no query)
  enum Only { kAny, kWatch, kList } only = kAny;
  int status = 500;
  int count = 1;            // how many requests it hits
  int retry_after = -1;     // Retry-After header (and details.retryAfterSeconds), -1: none
  bool plain_text = false;  // plain-text body, as priority-and-fairness 429s are
};

struct ServerStats {
  std::uint64_t lists = 0, watches = 0, gets = 0, logs = 0, unauthorized = 0, faults = 0,
                writes = 0;
};

class ApiServer {
 public:
  ApiServer(net::io_context& ioc, ServerOptions options = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Starts accepting; returns the bound port (port 0 picks a free one).
  unsigned short listen(const std::string& address = "127.0.0.1", unsigned short port = 0);
  // Closes the acceptor and every connection.
  void stop();

  Store& store();
  std::string url() const;
  std::string ca_pem() const;  // empty unless TLS
  // A kubeconfig (YAML) pointing at this server with the given token.
  std::string kubeconfig(const std::string& token) const;

  void set_logs(const std::string& ns, const std::string& pod, const std::string& container,
                std::string current, std::string previous);
  void set_token(std::string token);

  // Fault injection.
  void inject(Fault f);
  void drop_connections();       // abrupt close of every connection (no final chunk)
  void expire_watches();         // compaction: history dropped; every open watch gets ERROR 410
  void inject_malformed_line();  // a garbage line into every open watch
  void inject_raw_line(std::string line);  // any bytes (a '\n' is appended) into every open watch
  void end_watches();                      // clean end of every open watch (as at timeoutSeconds)
  void restart(std::chrono::milliseconds down_for);  // stop, then listen again on the same port

  std::size_t open_watches() const;
  const ServerStats& stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace podmedic::sim
