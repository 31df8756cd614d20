#include "k8s/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/log.h"
#include "core/parse.h"

namespace podmedic::k8s {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {
constexpr auto kUse = net::as_tuple(net::use_awaitable);
constexpr std::size_t kChunk = 64 * 1024;

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Counts the API server's fault (when counting is wired) and passes the error through.
Error counted(PeerErrors* errors, PeerFault fault, Error e) {
  if (errors) errors->count(Peer::kApiServer, fault);
  return e;
}

Error transport_error(PeerErrors* errors, std::string_view what,
                      const boost::system::error_code& ec) {
  if (ec == beast::error::timeout)
    return counted(errors, PeerFault::kTimeout, Error{std::string(what) + ": timeout"});
  return counted(errors, PeerFault::kTransport, Error{std::string(what) + ": " + ec.message()});
}

// Longest Retry-After we take as given; beyond it the header is unusable (and the callers cap
// their waits far lower anyway).
constexpr int kMaxRetryAfterSeconds = 24 * 3600;
}  // namespace

struct KubeClient::Tls {
  ssl::context ctx{ssl::context::tls_client};
};

KubeClient::KubeClient(net::any_io_executor ex, ClusterConnection conn, PeerErrors* peer_errors)
    : ex_(std::move(ex)), conn_(std::move(conn)), peer_errors_(peer_errors) {
  if (conn_.tokens) conn_.tokens->set_peer_errors(peer_errors_);
  if (conn_.scheme != "https") return;
  tls_ = std::make_unique<Tls>();
  auto& ctx = tls_->ctx;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (conn_.insecure_skip_tls_verify) {
    ctx.set_verify_mode(ssl::verify_none);
    log::warn("k8s", "TLS verification of the API server is disabled (insecure-skip-tls-verify)");
  } else {
    ctx.set_verify_mode(ssl::verify_peer);
    if (!conn_.ca_pem.empty()) {
      ctx.add_certificate_authority(net::buffer(conn_.ca_pem), ec);
      if (ec)
        log::error("k8s", "cannot load the cluster CA certificate", {{"error", ec.message()}});
    } else {
      ctx.set_default_verify_paths(ec);
    }
  }
  if (!conn_.client_cert_pem.empty()) {
    ctx.use_certificate_chain(net::buffer(conn_.client_cert_pem), ec);
    if (ec) log::error("k8s", "cannot load the client certificate", {{"error", ec.message()}});
    ctx.use_private_key(net::buffer(conn_.client_key_pem), ssl::context::pem, ec);
    if (ec) log::error("k8s", "cannot load the client key", {{"error", ec.message()}});
  }
}

KubeClient::~KubeClient() = default;

net::awaitable<Result<HttpResponse>> KubeClient::get(std::string target, std::size_t max_body,
                                                     std::chrono::milliseconds timeout) {
  co_return co_await request(std::move(target), max_body, nullptr, timeout);
}

net::awaitable<Result<HttpResponse>> KubeClient::stream(std::string target, BodySink sink,
                                                        std::chrono::milliseconds max_duration) {
  co_return co_await request(std::move(target), 1 << 20, &sink, max_duration);
}

net::awaitable<Result<HttpResponse>> KubeClient::send(std::string method, std::string target,
                                                      std::string json_body, std::size_t max_body,
                                                      std::chrono::milliseconds timeout) {
  const Write write{std::move(method), std::move(json_body)};
  co_return co_await request(std::move(target), max_body, nullptr, timeout, &write);
}

net::awaitable<Result<HttpResponse>> KubeClient::request(std::string target, std::size_t max_body,
                                                         const BodySink* sink,
                                                         std::chrono::milliseconds timeout,
                                                         const Write* write) {
  // A 401 may mean the projected token rotated: re-read it and retry once.
  auto first = co_await request_once(target, max_body, sink, timeout, write);
  if (first.ok() && first->status == 401 && conn_.tokens) {
    conn_.tokens->invalidate();
    first = co_await request_once(std::move(target), max_body, sink, timeout, write);
  }
  // 5xx is the server's failure whatever was asked; 4xx may be expected (404 of a Lease, 410 of
  // a watch), so callers count those they did not expect.
  if (first.ok() && first->status >= 500 && peer_errors_)
    peer_errors_->count(Peer::kApiServer, PeerFault::kStatus);
  co_return first;
}

namespace {

template <class Stream>
net::awaitable<Result<HttpResponse>> exchange(Stream& stream, http::request<http::string_body> req,
                                              std::size_t max_body, const BodySink* sink,
                                              PeerErrors* errors) {
  auto [wec, wn] = co_await http::async_write(stream, req, kUse);
  if (wec) co_return transport_error(errors, "write request", wec);

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // bounded below, by us
  parser.header_limit(64 * 1024);
  auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kUse);
  if (hec) co_return transport_error(errors, "read response header", hec);

  HttpResponse out;
  const auto& head = parser.get();
  out.status = static_cast<int>(head.result_int());
  out.content_type = std::string(head[http::field::content_type]);
  if (auto ra = head[http::field::retry_after]; !ra.empty()) {
    // Integer seconds only (the API server never sends a date); garbage, negative or absurd
    // values are ignored and counted, never trusted.
    auto secs = parse::integer<int>(std::string_view(ra.data(), ra.size()));
    if (secs && *secs >= 0 && *secs <= kMaxRetryAfterSeconds)
      out.retry_after_seconds = *secs;
    else if (errors)
      errors->count(Peer::kApiServer, PeerFault::kBadHeader);
  }
  const bool to_sink = sink != nullptr && out.status == 200;
  const std::size_t limit = to_sink ? 0 : (sink ? std::size_t(64 * 1024) : max_body);
  std::vector<char> chunk(kChunk);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto [rec, rn] = co_await http::async_read_some(stream, buffer, parser, kUse);
    if (rec == http::error::need_buffer) rec = {};
    std::size_t got = chunk.size() - parser.get().body().size;
    if (to_sink && got > 0) {
      if (!(*sink)(std::string_view(chunk.data(), got))) {
        out.stopped = true;
        co_return out;
      }
    } else if (!to_sink) {
      if (out.body.size() + got > limit) {
        co_return counted(errors, PeerFault::kOversized,
                          Error{"response body exceeds " + std::to_string(limit) + " bytes"});
      }
      out.body.append(chunk.data(), got);
    }
    if (rec) co_return transport_error(errors, "read response body", rec);
  }
  co_return out;
}

}  // namespace

net::awaitable<Result<HttpResponse>> KubeClient::request_once(std::string target,
                                                              std::size_t max_body,
                                                              const BodySink* sink,
                                                              std::chrono::milliseconds timeout,
                                                              const Write* write) {
  http::request<http::string_body> req{http::verb::get, conn_.base_path + target, 11};
  if (write) {
    req.method_string(write->method);
    req.set(http::field::content_type, "application/json");
    req.body() = write->body;
    req.prepare_payload();
  }
  req.set(http::field::host, conn_.host);
  req.set(http::field::user_agent, "podmedic/" PODMEDIC_VERSION);
  req.set(http::field::accept, "application/json");
  req.keep_alive(false);
  if (conn_.tokens) {
    if (auto tok = conn_.tokens->token(); !tok.empty()) {
      req.set(http::field::authorization, "Bearer " + tok);
    }
  }

  tcp::resolver resolver(ex_);
  auto [rec, endpoints] = co_await resolver.async_resolve(conn_.host, conn_.port, kUse);
  if (rec) co_return transport_error(peer_errors_, "resolve " + conn_.host, rec);

  if (!tls_) {
    beast::tcp_stream stream(ex_);
    stream.expires_after(timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, kUse);
    if (cec) co_return transport_error(peer_errors_, "connect", cec);
    auto result = co_await exchange(stream, std::move(req), max_body, sink, peer_errors_);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return result;
  }

  beast::ssl_stream<beast::tcp_stream> stream(ex_, tls_->ctx);
  const std::string& verify_name =
      conn_.tls_server_name.empty() ? conn_.host : conn_.tls_server_name;
  if (!is_ip_literal(verify_name)) {
    SSL_set_tlsext_host_name(stream.native_handle(), verify_name.c_str());
  }
  if (!conn_.insecure_skip_tls_verify) {
    stream.set_verify_callback(ssl::host_name_verification(verify_name));
  }
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, kUse);
  if (cec) co_return transport_error(peer_errors_, "connect", cec);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kUse);
  if (hec) co_return transport_error(peer_errors_, "TLS handshake", hec);
  auto result = co_await exchange(stream, std::move(req), max_body, sink, peer_errors_);
  beast::get_lowest_layer(stream).close();
  co_return result;
}

}  // namespace podmedic::k8s
