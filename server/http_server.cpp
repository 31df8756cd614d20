#include "server/http_server.h"

#include "core/parse.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "server/config.h"

namespace podmedic::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto kUse = net::as_tuple(net::use_awaitable);
}

namespace {
// Beast's parse errors, as opposed to the client closing (end_of_stream, partial_message).
bool is_malformed(const boost::system::error_code& ec) {
  if (!ec || &ec.category() != &http::make_error_code(http::error::bad_method).category())
    return false;
  return ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::need_more && ec != http::error::need_buffer &&
         ec != http::error::body_limit && ec != http::error::header_limit &&
         ec != http::error::buffer_overflow;
}
}  // namespace

Response json_error(int status, const std::string& message) {
  return {status, "application/json", parse::dump(nlohmann::json{{"error", message}})};
}

struct HttpServer::State {
  net::io_context& ioc;
  ServerSettings settings;
  Handler handler;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::map<std::uint64_t, tcp::socket*> open;  // for stop(); at most max_connections entries
  std::uint64_t next = 0;
  std::size_t active = 0;  // connections accepted and not yet finished (<= max_connections)
  std::uint64_t accept_failures = 0;
  log::RateLimited logs;  // accept failures and refusals: one line a minute each
  State(net::io_context& io, ServerSettings s, Handler h)
      : ioc(io), settings(std::move(s)), handler(std::move(h)) {}
};

namespace {

// One admitted connection's place under max_connections; a coroutine parameter, so it is given
// back when the coroutine's frame goes, even if the coroutine never ran.
struct Slot {
  std::shared_ptr<HttpServer::State> s;
  explicit Slot(std::shared_ptr<HttpServer::State> state) : s(std::move(state)) { ++s->active; }
  Slot(Slot&& o) noexcept : s(std::move(o.s)) {}
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  Slot& operator=(Slot&&) = delete;
  ~Slot() {
    if (s) --s->active;
  }
};

// Beyond max_connections: a canned 503 written without waiting, then close. What the client
// already sent is read first (closing a socket with unread input resets the connection, and the
// client would lose the answer). Never blocks: a client that is not reading just loses it.
void refuse(tcp::socket& socket) {
  static const std::string kResponse = [] {
    std::string body = R"({"error":"too many connections; retry later"})";
    return "HTTP/1.1 503 Service Unavailable\r\nServer: podmedic\r\n"
           "Content-Type: application/json\r\nCache-Control: no-store\r\nRetry-After: 1\r\n"
           "Connection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  std::array<char, 4096> drain;  // bounded: one read of what is already there
  (void)socket.read_some(net::buffer(drain), ec);
  (void)socket.write_some(net::buffer(kResponse), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

net::awaitable<void> serve(std::shared_ptr<HttpServer::State> s, tcp::socket socket, Slot slot) {
  (void)slot;
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
    // Idle (before the first request, between keep-alive requests): the next request's first
    // byte must come within idle_timeout, so idle connections do not hold their descriptor for
    // the whole request timeout.
    if (buffer.size() == 0) {
      stream.expires_after(s->settings.idle_timeout);
      auto [iec, got] = co_await stream.async_read_some(buffer.prepare(1024), kUse);
      if (iec) break;  // closed, idle too long
      buffer.commit(got);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(s->settings.header_limit));
    // The header is read under the largest limit (Beast checks Content-Length against it as
    // the header ends); once the route is known, its own limit applies to the body.
    std::size_t body_limit = s->settings.body_limit;
    std::size_t largest = body_limit;
    for (const auto& rl : s->settings.route_body_limits) largest = std::max(largest, rl.second);
    parser.body_limit(largest);
    stream.expires_after(s->settings.request_timeout);
    auto [ec, hn] = co_await http::async_read_header(stream, buffer, parser, kUse);
    (void)hn;
    {
      // Set from the request line even when the header ended in an error (a Content-Length
      // over the largest limit), so the 413 names the route's own limit.
      std::string_view target = parser.get().target();
      target = target.substr(0, target.find('?'));
      for (const auto& [route, limit] : s->settings.route_body_limits) {
        if (target == route) body_limit = limit;
      }
    }
    if (!ec) {
      if (auto length = parser.content_length(); length && *length > body_limit) {
        ec = http::error::body_limit;
      } else {
        parser.body_limit(body_limit);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kUse);
        (void)bn;
        ec = bec;
      }
    }
    Response r;
    bool keep_alive = false;
    unsigned version = 11;
    if (ec == http::error::body_limit) {
      r = json_error(413, "request body over " + std::to_string(body_limit / 1024) + " KiB");
    } else if (ec == http::error::header_limit) {
      r = json_error(
          431, "request headers over " + std::to_string(s->settings.header_limit / 1024) + " KiB");
    } else if (is_malformed(ec)) {
      // A request line or header Beast cannot parse (a bad method, version, field, chunk or
      // Content-Length): say so, then close, as servers do.
      r = json_error(400, "malformed HTTP request: " + ec.message());
    } else if (ec) {
      break;  // closed, or timed out (the stream is closed then): nothing to answer
    } else {
      auto& req = parser.get();
      keep_alive = req.keep_alive();
      version = req.version();
      Request in{std::string(req.method_string()),
                 std::string(req.target()),
                 std::string(req[http::field::authorization]),
                 std::move(req.body()),
                 std::string(req[http::field::content_type]),
                 std::string(req[http::field::origin]),
                 std::string(req["MCP-Protocol-Version"])};
      // Named handler and awaitable: GCC 12 miscompiles temporaries with destructors inside
      // co_await expressions.
      auto handle = s->handler;
      auto op = handle(std::move(in));
      r = co_await std::move(op);
    }
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "podmedic");
    if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
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

// accept() failures that repeat at once until something is freed: retrying would spin.
bool out_of_resources(const boost::system::error_code& ec) {
  return ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

net::awaitable<void> accept_loop(std::shared_ptr<HttpServer::State> s) {
  for (;;) {
    if (!s->acceptor || !s->acceptor->is_open()) co_return;
    auto [ec, socket] = co_await s->acceptor->async_accept(kUse);
    if (ec == net::error::operation_aborted) co_return;
    if (ec == net::error::connection_aborted) continue;  // that client gave up; the next is new
    if (ec) {
      ++s->accept_failures;
      // EMFILE/ENFILE (or anything unexpected): pause instead of spinning at 100% CPU; the
      // pending connections wait in the listen backlog, the connections we have keep being
      // served, and descriptors freed meanwhile go to the rest of the process first.
      s->logs.write(log::Level::kWarn, "server", out_of_resources(ec) ? "accept" : "accept-other",
                    "cannot accept connections; pausing the acceptor",
                    {{"error", ec.message()},
                     {"pause_ms", kAcceptPause.count()},
                     {"connections", s->active}});
      net::steady_timer pause(s->ioc, kAcceptPause);
      auto [wec] = co_await pause.async_wait(kUse);
      if (wec) co_return;  // cancelled: stopping
      continue;
    }
    if (s->active >= s->settings.max_connections) {
      refuse(socket);
      s->logs.write(log::Level::kWarn, "server", "refused",
                    "connection refused with 503: server.maxConnections reached",
                    {{"max_connections", s->settings.max_connections}});
      continue;
    }
    net::co_spawn(s->ioc, serve(s, std::move(socket), Slot(s)), [](std::exception_ptr e) {
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
  auto host = listen_address(l);
  if (!host.ok()) return Error{"server.listen \"" + l + "\": " + host.error().message};
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host.value(), ec);
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

std::size_t HttpServer::connections() const {
  return state_->active;
}

std::uint64_t HttpServer::accept_failures() const {
  return state_->accept_failures;
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
