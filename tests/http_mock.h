#pragma once
// HttpMock: a loopback HTTP/1.1 server on 127.0.0.1:0 built from a handler function, running on
// its own thread, recording every request. For fake Slack and webhook receivers (libcurl calls
// them from notifier worker threads). Thread-safe accessors.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace podmedic::test {

struct MockRequest {
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::chrono::steady_clock::time_point at;
};

struct MockResponse {
  int status = 200;
  std::string body = "ok";
  std::map<std::string, std::string> headers;
  bool hang = false;  // never answer (the client must time out)
};

class HttpMock {
 public:
  using Handler = std::function<MockResponse(const MockRequest&)>;
  explicit HttpMock(Handler h) : handler_(std::move(h)) {
    namespace net = boost::asio;
    acceptor_.open(net::ip::tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, accept(), [](std::exception_ptr) {});
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~HttpMock() {
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<MockRequest> requests() const {
    std::lock_guard l(mu_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard l(mu_);
    return requests_.size();
  }
  void set_handler(Handler h) {
    std::lock_guard l(mu_);
    handler_ = std::move(h);
  }

 private:
  boost::asio::awaitable<void> accept() {
    namespace net = boost::asio;
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      net::co_spawn(ioc_, serve(std::move(sock)), [](std::exception_ptr) {});
    }
  }
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket sock) {
    namespace net = boost::asio;
    namespace http = boost::beast::http;
    boost::beast::tcp_stream stream(std::move(sock));
    boost::beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buf, req, net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      MockRequest mr{std::string(req.target()), {}, req.body(), std::chrono::steady_clock::now()};
      for (const auto& f : req) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        mr.headers[name] = std::string(f.value());
      }
      Handler h;
      {
        std::lock_guard l(mu_);
        requests_.push_back(mr);
        h = handler_;
      }
      MockResponse r = h(mr);
      if (r.hang) {
        hung_.push_back(std::move(stream));  // keep it open, never answer
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
      res.set(http::field::content_type, "text/plain");
      for (const auto& [k, v] : r.headers) res.set(k, v);
      res.body() = r.body;
      res.prepare_payload();
      res.keep_alive(req.keep_alive());
      auto [wec, wn] = co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
      if (wec || !req.keep_alive()) co_return;
    }
  }

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      ioc_.get_executor()};
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<MockRequest> requests_;
  std::vector<boost::beast::tcp_stream> hung_;
  Handler handler_;
};

}  // namespace podmedic::test
