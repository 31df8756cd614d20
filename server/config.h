#pragma once
// The `server` section of the configuration: the HTTP API and metrics listener.
#include <chrono>
#include <string>

#include "core/result.h"

#include "core/config_schema.h"

namespace podmedic::server {

struct ServerConfig {
  std::string listen = "0.0.0.0:8080";
  std::string token;
  // Connections served at once; beyond it 503 and close. Start-up reserves this many file
  // descriptors plus a reserve for the rest of the process (app's reserve_descriptors).
  int max_connections = 256;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(5)};  // keep-alive / first byte
  // server.externalUrl: the page's public URL, for links in alerts; its host is also an allowed
  // Origin of POST /mcp. Empty: none.
  std::string external_url;
};

config::Schema server_schema(ServerConfig& s);
void validate(const ServerConfig& s, config::Ctx& ctx);

// Whether server.listen ("host:port") binds beyond the loopback interface: true for 0.0.0.0,
// [::], an empty host and any address not in 127.0.0.0/8 or ::1; a host name other than
// "localhost" counts as beyond loopback.
bool listens_beyond_loopback(const std::string& listen);
// The address to bind for "host:port": an IPv4 or IPv6 literal ("[::1]" too), "localhost"
// (127.0.0.1) or an empty host (0.0.0.0). Host names are refused: which address they resolve to
// may change, and the bind must be the one check-config approved.
Result<std::string> listen_address(const std::string& listen);

}  // namespace podmedic::server
