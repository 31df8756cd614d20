#pragma once
// HttpServer: HTTP/1.1 with keep-alive on the pipeline's io_context (Beast, C++20 coroutines).
// Socket handling only; what a request means is the Handler's business (a pure function of the
// request), so routes are testable without sockets. Bodies over `body_limit` get 413, headers
// over `header_limit` 431, slow requests time out, a connection with no request byte for
// `idle_timeout` is closed, and beyond `max_connections` open connections a new one gets a 503
// and is closed. When accept() runs out of descriptors (EMFILE/ENFILE) the acceptor pauses
// (kAcceptPause) instead of spinning, logging once a minute. Call from the io_context's thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "core/result.h"
#include "core/task_group.h"

namespace podmedic::server {

struct Request {
  std::string method;  // GET, POST, ...
  std::string target;  // path and query
  std::string authorization;
  std::string body;
  std::string content_type;  // the Content-Type header as sent (POST routes check its media type)
  std::string origin;        // the Origin header (POST /mcp checks it against DNS rebinding)
  std::string mcp_protocol_version;  // the MCP-Protocol-Version header (POST /mcp)
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";  // empty: no Content-Type (an empty 202)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A coroutine on the server's io_context: slow work (an LLM call) is awaited, never blocking.
using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

struct ServerSettings {
  std::string listen = "0.0.0.0:8080";
  std::size_t body_limit = 64 * 1024;
  std::chrono::seconds request_timeout{30};  // a request's bytes once it has begun, the response
  // At most this many connections at once (server.maxConnections): the bound on descriptors and
  // memory (~10 KiB each) the API can take; beyond it, 503 and close.
  std::size_t max_connections = 256;
  // No byte of a (next) request for this long: the connection is closed (server.idleTimeout).
  std::chrono::milliseconds idle_timeout{5000};
  std::size_t header_limit = 16 * 1024;  // request line + headers; beyond it 431
  // Routes (exact paths) allowed a larger body than body_limit (POST /api/alertmanager: 1 MiB);
  // the limit is chosen once the request line is read.
  std::vector<std::pair<std::string, std::size_t>> route_body_limits;
};

// How long the acceptor waits after accept() failed for want of descriptors or memory.
inline constexpr std::chrono::milliseconds kAcceptPause{250};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, ServerSettings settings, Handler handler);
  ~HttpServer();
  // Binds and starts accepting (in `tasks`); returns the bound port.
  Result<unsigned short> start(TaskGroup& tasks);
  void stop();
  // Connections being served now (at most max_connections).
  std::size_t connections() const;
  // accept() failures so far (each followed by a pause when out of descriptors).
  std::uint64_t accept_failures() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

Response json_error(int status, const std::string& message);

}  // namespace podmedic::server
