#pragma once
// The MCP (Model Context Protocol) endpoint POST /mcp: JSON-RPC 2.0 over the Streamable HTTP
// transport, answered with plain JSON (no SSE), stateless (no Mcp-Session-Id). Read-only tools
// for AI assistants and agents: list_incidents and get_incident (from the /api/incidents
// snapshot, already redacted), diagnose and ask (like POST /diagnose and /ask, through the
// callbacks). api.cpp routes here after the bearer token and the media type; this file checks
// the Origin (DNS rebinding: absent, loopback or the host of server.externalUrl, else 403) and
// the MCP-Protocol-Version header (unsupported: 400; absent: 2025-03-26), then answers:
// initialize (version negotiation), ping, tools/list, tools/call; notifications and client
// responses → 202 without a body; JSON-RPC errors -32700, -32600, -32601, -32602 with the
// request's id. Batches: only under 2025-03-26 (the one version that has them), at most
// kMaxBatch messages. Tool failures are results with isError; namespaces outside the watch
// scope are refused there. Runs on the HTTP thread; the callbacks hop where they need to.
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "server/http_server.h"

namespace podmedic::server::mcp {

// Supported protocol versions, newest first: initialize answers the client's version when it is
// here, else the first.
inline constexpr std::array<std::string_view, 4> kProtocolVersions = {"2025-11-25", "2025-06-18",
                                                                      "2025-03-26", "2024-11-05"};
// What a request without MCP-Protocol-Version speaks (the transport spec says so).
inline constexpr std::string_view kVersionWithoutHeader = "2025-03-26";
// Messages in one batch at most (beyond: -32600); each tools/call in it shares one deadline.
inline constexpr std::size_t kMaxBatch = 16;
// list_incidents returns at most this many incidents (newest first), then says how many more.
inline constexpr std::size_t kMaxListed = 200;

// A tool's answer: `structured` (an object) goes out as structuredContent and, serialized, as
// the one text content block; is_error marks a failure the model should see (isError).
struct ToolResult {
  nlohmann::json structured = nlohmann::json::object();
  bool is_error = false;
};
ToolResult tool_error(const std::string& message);

using Deadline = std::chrono::steady_clock::time_point;

struct McpSources {
  // The /api/incidents snapshot (a JSON array of incidents; null before the first one).
  std::function<std::shared_ptr<const std::string>()> incidents;
  // The LLM tools. `deadline`: when the answer must be back (a slower LLM leaves diagnose with
  // its evidence and facts and a note). Null: an isError result.
  std::function<boost::asio::awaitable<ToolResult>(std::string question, std::string ns,
                                                   std::string pod, Deadline deadline)>
      diagnose;
  std::function<boost::asio::awaitable<ToolResult>(std::string question, Deadline deadline)> ask;
  // The watch scope; null: every namespace.
  std::function<bool(const std::string& ns)> namespace_allowed;
  std::string external_url;                // server.externalUrl: its host is an allowed Origin
  std::string version = PODMEDIC_VERSION;  // serverInfo.version
  // A tool call's time budget from the request's arrival: under the clients' default 60 s.
  std::chrono::milliseconds tool_budget{45'000};
};

// The POST /mcp handler (api.cpp has checked the method, the token and the Content-Type).
Handler make_handler(McpSources sources);

// Whether an Origin header value may call /mcp: loopback (localhost, 127.0.0.0/8, [::1]) or the
// host of `external_url` (case-insensitive, any port). "null" and unparsable values may not.
bool origin_allowed(std::string_view origin, std::string_view external_url);

// The tools/list result (every tool with its inputSchema).
nlohmann::json tools_list();

// The snapshot tools, pure: `snapshot` is the /api/incidents array text.
ToolResult list_incidents(const std::string& snapshot, const std::string& state,
                          const std::string& ns,
                          const std::function<bool(const std::string&)>& allowed);
ToolResult get_incident(const std::string& snapshot, const std::string& id,
                        const std::function<bool(const std::string&)>& allowed);

}  // namespace podmedic::server::mcp
