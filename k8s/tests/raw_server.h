#pragma once
// RawServer: a hostile API server for tests. It listens on 127.0.0.1:0 on the test's own
// io_context, reads each request's head, and answers with whatever bytes the handler scripts:
// any status line and headers (Retry-After: 99999999999999999999), bodies that are not JSON or
// have wrong types, huge bodies, a stream of lines held open, then a clean close, a hold, or a
// connection reset (RST). Runs on the io_context's thread; not thread-safe.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace podmedic::test {

struct RawReply {
  std::vector<std::string> writes;  // written in order (one write each: chunk boundaries)
  enum End { kClose, kReset, kHold } end = kClose;

  // A whole HTTP/1.1 response with Content-Length.
  static RawReply http(int status, std::string body, std::string extra_headers = "") {
    RawReply r;
    r.writes.push_back("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " +
                       "application/json\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n" + extra_headers + "\r\n" + body);
    return r;
  }
  // A 200 whose body runs until the connection ends (as a watch stream without chunking).
  static RawReply stream(std::vector<std::string> lines, End end) {
    RawReply r;
    r.writes.push_back(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
    for (auto& l : lines) r.writes.push_back(std::move(l));
    r.end = end;
    return r;
  }
};

class RawServer {
 public:
  // `handler(target, n)`: the reply to the n-th request (0-based) for `target`.
  using Handler = std::function<RawReply(const std::string& target, std::size_t n)>;

  RawServer(boost::asio::io_context& ioc, Handler handler)
      : ioc_(ioc), acceptor_(ioc), handler_(std::move(handler)) {
    namespace net = boost::asio;
    acceptor_.open(net::ip::tcp::v4());
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, accept(), [](std::exception_ptr) {});
  }
  ~RawServer() { stop(); }
  void stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& s : held_) s->close(ec);
    held_.clear();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::vector<std::string>& targets() const { return targets_; }
  std::size_t requests() const { return targets_.size(); }

 private:
  using Socket = boost::asio::ip::tcp::socket;
  boost::asio::awaitable<void> accept() {
    namespace net = boost::asio;
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      net::co_spawn(ioc_, serve(std::make_shared<Socket>(std::move(sock))),
                    [](std::exception_ptr) {});
    }
  }
  boost::asio::awaitable<void> serve(std::shared_ptr<Socket> sock) {
    namespace net = boost::asio;
    net::streambuf buf;
    auto [ec, n] =
        co_await net::async_read_until(*sock, buf, "\r\n\r\n", net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    std::string head(net::buffers_begin(buf.data()), net::buffers_begin(buf.data()) + n);
    auto sp1 = head.find(' ');
    auto sp2 = head.find(' ', sp1 + 1);
    std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    targets_.push_back(target);
    std::size_t nth = 0;
    for (const auto& t : targets_)
      nth += path_of(t) == path_of(target) && is_watch(t) == is_watch(target);
    RawReply reply = handler_(target, nth - 1);
    for (const auto& w : reply.writes) {
      auto [wec, wn] =
          co_await net::async_write(*sock, net::buffer(w), net::as_tuple(net::use_awaitable));
      if (wec) co_return;
    }
    boost::system::error_code ignored;
    if (reply.end == RawReply::kReset) {
      sock->set_option(net::socket_base::linger(true, 0), ignored);  // close() sends RST
      sock->close(ignored);
    } else if (reply.end == RawReply::kClose) {
      sock->shutdown(Socket::shutdown_both, ignored);
      sock->close(ignored);
    } else {
      held_.push_back(sock);
    }
  }
  static std::string path_of(const std::string& target) {
    return target.substr(0, target.find('?'));
  }
  static bool is_watch(const std::string& target) {
    return target.find("watch=1") != std::string::npos;
  }

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  unsigned short port_ = 0;
  std::vector<std::string> targets_;
  std::vector<std::shared_ptr<Socket>> held_;
};

}  // namespace podmedic::test
