// The MCP endpoint's handler (server/mcp.h): JSON-RPC messages and batches, the Origin and
// MCP-Protocol-Version headers, and the incident snapshot the read tools parse, from one input
// split at NUL bytes: origin, protocol version, snapshot, body. Every answer must be a status
// with a JSON body (or an empty 202).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>

#include "core/log.h"
#include "core/parse.h"
#include "fuzz/fuzz_input.h"
#include "server/mcp.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  auto f = fuzz::split(data, size, 4);
  auto snapshot = std::make_shared<const std::string>(f[2]);
  server::mcp::McpSources s;
  s.incidents = [snapshot] { return snapshot; };
  s.namespace_allowed = [](const std::string& ns) { return ns != "kube-system"; };
  s.diagnose = [](std::string q, std::string ns, std::string pod,
                  server::mcp::Deadline) -> boost::asio::awaitable<server::mcp::ToolResult> {
    co_return server::mcp::ToolResult{{{"answer", q + ns + pod}}, false};
  };
  s.ask = [](std::string q,
             server::mcp::Deadline) -> boost::asio::awaitable<server::mcp::ToolResult> {
    co_return server::mcp::ToolResult{{{"answer", q}}, false};
  };
  s.external_url = "https://podmedic.example.com";
  auto handler = server::mcp::make_handler(std::move(s));
  server::Request req;
  req.method = "POST";
  req.target = "/mcp";
  req.content_type = "application/json";
  req.origin = std::string(f[0]);
  req.mcp_protocol_version = std::string(f[1]);
  req.body = std::string(f[3]);
  boost::asio::io_context ioc;
  server::Response out;
  bool done = false;
  auto run = [&]() -> boost::asio::awaitable<void> {
    auto op = handler(req);
    out = co_await std::move(op);
    done = true;
  };
  boost::asio::co_spawn(ioc, run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // an exception through the handler is a finding
  });
  ioc.run();
  if (!done || out.status < 100 || out.status > 599) std::abort();
  if (out.status == 202 ? !out.body.empty() : !parse::json_text(out.body, "reply").ok())
    std::abort();
  return 0;
}
