#include "app/mcp_tools.h"

#include <memory>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace podmedic::app {

namespace net = boost::asio;
using diagnosis::LlmOutcome;
using server::mcp::Deadline;
using server::mcp::tool_error;
using server::mcp::ToolResult;

namespace {

// A later call of a batch whose budget is spent: not started at all.
constexpr const char* kNoTimeLeft = "no time left in this request's budget; call again";
constexpr const char* kBusyMessage = "too many LLM requests in flight; retry in a few seconds";

// A service request raced against a tool call's deadline. The request's task fills `done` and
// cancels the timer; `so_far` is what a diagnosis had gathered before it asked the LLM.
template <class Reply>
struct Race {
  explicit Race(const net::any_io_executor& ex) : timer(ex) {}
  std::optional<Reply> done;
  std::optional<Reply> so_far;
  net::steady_timer timer;
};

template <class Reply>
net::awaitable<void> finish(std::shared_ptr<Race<Reply>> race, net::awaitable<Reply> op) {
  auto reply = co_await std::move(op);
  race->done = std::move(reply);
  race->timer.cancel();
}

// Runs `op` as a task of `tasks` (it owns the request from now on, to its end) and waits for it
// until `deadline`.
template <class Reply>
net::awaitable<void> wait_until(TaskGroup& tasks, std::shared_ptr<Race<Reply>> race,
                                net::awaitable<Reply> op, Deadline deadline) {
  race->timer.expires_at(deadline);
  tasks.spawn("mcp tool call", finish(race, std::move(op)));
  if (race->done) co_return;
  auto wait = race->timer.async_wait(net::as_tuple(net::use_awaitable));
  auto [ec] = co_await std::move(wait);
  (void)ec;  // cancelled by the request's end, or the deadline: `done` tells which
}

}  // namespace

ToolResult diagnose_result(const diagnosis::DiagnoseReply& r, const std::string& note) {
  switch (r.outcome) {
    case LlmOutcome::kBusy:
      return tool_error(kBusyMessage);
    case LlmOutcome::kListFailed:
      return tool_error("cannot list pods: " + r.error);
    case LlmOutcome::kPodNotFound:
    case LlmOutcome::kNamespaceNotFound:
    case LlmOutcome::kPodFailed:
      return tool_error(r.error);
    case LlmOutcome::kLlmError:
    case LlmOutcome::kOk:
      break;
  }
  nlohmann::json pods = nlohmann::json::array();
  for (const auto& p : r.pods) pods.push_back(p.name);
  nlohmann::json out = {{"pods", std::move(pods)}, {"facts", r.facts}, {"context", r.context}};
  if (!note.empty()) {
    out["note"] = note;
  } else if (r.outcome == LlmOutcome::kLlmError) {
    // The LLM is down: the evidence and the rules-based facts are still the answer's basis.
    out["note"] = "the LLM failed (" + r.error +
                  "); here are the evidence and the rules-based facts without its diagnosis";
  } else {
    out["answer"] = r.answer;
    out["model"] = r.model;
    if (r.truncated) out["truncated"] = true;
  }
  return ToolResult{std::move(out), false};
}

ToolResult ask_result(const diagnosis::AskReply& r) {
  if (r.outcome == LlmOutcome::kBusy) return tool_error(kBusyMessage);
  if (r.outcome != LlmOutcome::kOk) return tool_error("the LLM failed: " + r.error);
  return ToolResult{{{"answer", r.answer}, {"model", r.model}}, false};
}

net::awaitable<ToolResult> mcp_diagnose(diagnosis::LlmService& llm, TaskGroup& tasks,
                                        std::string question, std::string ns, std::string pod,
                                        Deadline deadline) {
  if (std::chrono::steady_clock::now() >= deadline) co_return tool_error(kNoTimeLeft);
  auto ex = co_await net::this_coro::executor;
  auto race = std::make_shared<Race<diagnosis::DiagnoseReply>>(ex);
  diagnosis::DiagnoseRequest req;
  req.question = std::move(question);
  req.ns = std::move(ns);
  req.pod = std::move(pod);
  req.on_evidence = [race](const diagnosis::DiagnoseReply& so_far) { race->so_far = so_far; };
  auto op = llm.diagnose(std::move(req));
  auto wait = wait_until(tasks, race, std::move(op), deadline);
  co_await std::move(wait);
  if (race->done) co_return diagnose_result(*race->done);
  if (race->so_far)
    co_return diagnose_result(
        *race->so_far,
        "the LLM did not answer within this tool call's time budget; here are the redacted "
        "evidence and the rules-based facts (ask again later for the LLM's diagnosis)");
  co_return tool_error(
      "gathering the evidence took longer than this tool call's time budget; try one pod, or "
      "again later");
}

net::awaitable<ToolResult> mcp_ask(diagnosis::LlmService& llm, TaskGroup& tasks,
                                   std::string question, Deadline deadline) {
  if (std::chrono::steady_clock::now() >= deadline) co_return tool_error(kNoTimeLeft);
  auto ex = co_await net::this_coro::executor;
  auto race = std::make_shared<Race<diagnosis::AskReply>>(ex);
  auto op = llm.ask(std::move(question));
  auto wait = wait_until(tasks, race, std::move(op), deadline);
  co_await std::move(wait);
  if (race->done) co_return ask_result(*race->done);
  co_return tool_error(
      "the LLM did not answer within this tool call's time budget; ask again later");
}

net::awaitable<ToolResult> run_on(net::io_context& ioc, net::awaitable<ToolResult> op) {
  auto hop = net::co_spawn(ioc, std::move(op), net::as_tuple(net::use_awaitable));
  auto [error, result] = co_await std::move(hop);
  if (error) co_return tool_error("podmedic is stopping");
  co_return result;
}

}  // namespace podmedic::app
