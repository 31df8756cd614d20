#include "server/http_server.h"

#include "core/parse.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "core/log.h"

namespace podmedic::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto kUse = net::as_tuple(net::use_awaitable);
}

Response json_error(int status, const std::string& message) {
  return {status, "application/json", parse::dump(nlohmann::json{{"error", message}})};
}

struct HttpServer::State {
  net::io_context& ioc;
  ServerSettings settings;
  Handler handler;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::map<std::uint64_t, tcp::socket*> open;  // for stop()
  std::uint64_t next = 0;
  State(net::io_context& io, ServerSettings s, Handler h)
      : ioc(io), settings(std::move(s)), handler(std::move(h)) {}
};

namespace {

net::awaitable<void> serve(std::shared_ptr<HttpServer::State> s, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto id = s->next++;
  s->open[id] = &stream.socket();
  struct Unregister {
    std::shared_ptr<HttpServer::State> s;
    std::uint64_t id;
    ~Unregister() { s->open.erase(id); }
  } unregister{s, id};
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(s->settings.body_limit);
    stream.expires_after(s->settings.request_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUse);
    Response r;
    bool keep_alive = false;
    unsigned version = 11;
    if (ec == http::error::body_limit) {
      r = json_error(413,
                     "request body over " + std::to_string(s->settings.body_limit / 1024) + " KiB");
    } else if (ec) {
      break;  // closed, timed out or malformed: nothing sensible to answer
    } else {
      auto& req = parser.get();
      keep_alive = req.keep_alive();
      version = req.version();
      Request in{std::string(req.method_string()), std::string(req.target()),
                 std::string(req[http::field::authorization]), std::move(req.body())};
      // Named handler and awaitable: GCC 12 miscompiles temporaries with destructors inside
      // co_await expressions.
      auto handle = s->handler;
      auto op = handle(std::move(in));
      r = co_await std::move(op);
    }
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "podmedic");
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::cache_control, "no-store");
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(s->settings.request_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kUse);
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

net::awaitable<void> accept_loop(std::shared_ptr<HttpServer::State> s) {
  for (;;) {
    auto [ec, socket] = co_await s->acceptor->async_accept(kUse);
    if (ec == net::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
    net::co_spawn(s->ioc, serve(s, std::move(socket)), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);  // a bug in request handling: fail loudly
    });
  }
}

}  // namespace

HttpServer::HttpServer(net::io_context& ioc, ServerSettings settings, Handler handler)
    : state_(std::make_shared<State>(ioc, std::move(settings), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

Result<unsigned short> HttpServer::start(TaskGroup& tasks) {
  auto& l = state_->settings.listen;
  auto colon = l.rfind(':');
  if (colon == std::string::npos) return Error{"server.listen \"" + l + "\": expected host:port"};
  std::string host = l.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return Error{"server.listen \"" + l + "\": " + ec.message()};
  auto port = parse::port(std::string_view(l).substr(colon + 1));
  if (!port) return Error{"server.listen \"" + l + "\": the port must be a number from 0 to 65535"};
  auto acc = std::make_unique<tcp::acceptor>(state_->ioc);
  tcp::endpoint ep(addr, *port);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error{"server.listen " + l + ": " + ec.message()};
  auto local = acc->local_endpoint(ec);
  if (ec) return Error{"server.listen " + l + ": " + ec.message()};
  auto bound = local.port();
  state_->acceptor = std::move(acc);
  tasks.spawn("http server", accept_loop(state_));
  return bound;
}

void HttpServer::stop() {
  if (state_->acceptor) {
    boost::system::error_code ec;
    state_->acceptor->close(ec);
  }
  for (auto& [id, sock] : state_->open) {
    boost::system::error_code ec;
    sock->close(ec);
  }
}

}  // namespace podmedic::server
