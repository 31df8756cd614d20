#include "server/config.h"

#include <boost/asio/ip/address.hpp>

#include "core/parse.h"
#include "core/text.h"

namespace podmedic::server {

config::Schema server_schema(ServerConfig& s) {
  using namespace config;
  return Schema{str("listen", &s.listen, "address:port of the HTTP server"),
                str("token", &s.token,
                    "bearer token for /ask, /diagnose, /models and /api/*; empty: open (a "
                    "warning at start when listening beyond loopback)"),
                integer("maxConnections", &s.max_connections,
                        "connections at once; beyond it 503 and close (start-up makes room "
                        "in RLIMIT_NOFILE for them plus 64, or refuses to start)",
                        1, 65536),
                duration("idleTimeout", &s.idle_timeout,
                         "an idle connection (no request byte) is closed after this", false),
                str("externalUrl", &s.external_url,
                    "the web page's public URL (https://…), for links in alerts (PagerDuty "
                    "client_url, Teams button, Alertmanager generatorURL); its host may also "
                    "call /mcp from a browser (Origin); empty: none")};
}

void validate(const ServerConfig& s, config::Ctx& ctx) {
  auto colon = s.listen.rfind(':');
  bool port_ok = colon != std::string::npos &&
                 parse::port(std::string_view(s.listen).substr(colon + 1)).has_value();
  if (!port_ok) {
    ctx.error("server.listen", "expected host:port, got \"" + s.listen + "\"");
  } else if (auto a = listen_address(s.listen); !a.ok()) {
    ctx.error("server.listen", a.error().message);
  }
  if (s.idle_timeout > std::chrono::minutes(10))
    ctx.error("server.idleTimeout", "must be at most 10m");
  if (!s.external_url.empty() && !config::is_http_url(s.external_url))
    ctx.error("server.externalUrl", "must be an http(s) URL");
}

bool listens_beyond_loopback(const std::string& listen) {
  // What would be bound; a host name (refused by check-config) counts as beyond loopback.
  auto host = listen_address(listen);
  if (!host.ok()) return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host.value(), ec);
  return ec || !addr.is_loopback();
}

Result<std::string> listen_address(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon == std::string::npos ? listen.size() : colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return std::string("0.0.0.0");
  if (host == "localhost") return std::string("127.0.0.1");
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  if (ec)
    return Error{"\"" + std::string(text::cut_utf8(host, 256)) +
                 "\" is not an IP address (use an address such as 127.0.0.1, 0.0.0.0 or [::], "
                 "or localhost)"};
  return host;
}

}  // namespace podmedic::server
