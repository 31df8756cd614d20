#pragma once
// The MCP tools that use the LLM (diagnose, ask; server/mcp.h) over diagnosis::LlmService, each
// bounded by its tool call's deadline so the client (60 s by default) gets an answer even when
// ollama.timeout is longer: the service's request runs as a task of `tasks`, keeping its
// in-flight slot (the limit /ask and /diagnose share) until the LLM answers or times out (so at
// most LlmService::kMaxRequests such tasks wait at once; the others end at once as busy), while
// the tool call waits at most until the deadline. Then diagnose answers with the redacted
// evidence and rules-based facts gathered so far and a note; ask with an isError result.
// Run on the service's thread (the pipeline's); run_on() hops there from the HTTP thread.
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "core/task_group.h"
#include "diagnosis/llm_service.h"
#include "server/mcp.h"

namespace podmedic::app {

boost::asio::awaitable<server::mcp::ToolResult> mcp_diagnose(diagnosis::LlmService& llm,
                                                             TaskGroup& tasks, std::string question,
                                                             std::string ns, std::string pod,
                                                             server::mcp::Deadline deadline);
boost::asio::awaitable<server::mcp::ToolResult> mcp_ask(diagnosis::LlmService& llm,
                                                        TaskGroup& tasks, std::string question,
                                                        server::mcp::Deadline deadline);

// Runs `op` on `ioc` and resumes on the caller's executor; a tool call cut short because
// podmedic stops is an isError result, never an exception through the HTTP server.
boost::asio::awaitable<server::mcp::ToolResult> run_on(
    boost::asio::io_context& ioc, boost::asio::awaitable<server::mcp::ToolResult> op);

// A finished reply as a tool result. `note` (not empty): the LLM did not answer in time and
// `r` is the reply so far (evidence and facts, no answer).
server::mcp::ToolResult diagnose_result(const diagnosis::DiagnoseReply& r,
                                        const std::string& note = {});
server::mcp::ToolResult ask_result(const diagnosis::AskReply& r);

}  // namespace podmedic::app
