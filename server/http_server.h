#pragma once
// HttpServer: HTTP/1.1 with keep-alive on the pipeline's io_context (Beast, C++20 coroutines).
// Socket handling only; what a request means is the Handler's business (a pure function of the
// request), so routes are testable without sockets. Bodies over `body_limit` get 413, slow
// requests time out. Call from the io_context's thread.
#include <chrono>
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
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A coroutine on the server's io_context: slow work (an LLM call) is awaited, never blocking.
using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

struct ServerSettings {
  std::string listen = "0.0.0.0:8080";
  std::size_t body_limit = 64 * 1024;
  std::chrono::seconds request_timeout{30};
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, ServerSettings settings, Handler handler);
  ~HttpServer();
  // Binds and starts accepting (in `tasks`); returns the bound port.
  Result<unsigned short> start(TaskGroup& tasks);
  void stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

Response json_error(int status, const std::string& message);

}  // namespace podmedic::server
