#include "app/llm_routes.h"

#include "core/parse.h"

namespace podmedic::app {

namespace net = boost::asio;
using diagnosis::LlmOutcome;

namespace {

server::Response json_ok(const nlohmann::json& j) {
  return {200, "application/json", parse::dump(j), {}};
}

server::Response busy() {
  auto r = server::json_error(429, "too many LLM requests in flight; retry later");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

}  // namespace

server::Response ask_response(const diagnosis::AskReply& r) {
  if (r.outcome == LlmOutcome::kBusy) return busy();
  if (r.outcome != LlmOutcome::kOk) return server::json_error(503, r.error);
  return json_ok({{"answer", r.answer}, {"model", r.model}});
}

server::Response diagnose_response(const diagnosis::DiagnoseReply& r) {
  switch (r.outcome) {
    case LlmOutcome::kBusy:
      return busy();
    case LlmOutcome::kListFailed:
      return server::json_error(502, "cannot list pods: " + r.error);
    case LlmOutcome::kPodNotFound:
    case LlmOutcome::kNamespaceNotFound:
      return server::json_error(404, r.error);
    case LlmOutcome::kPodFailed:
      return server::json_error(502, r.error);
    case LlmOutcome::kLlmError:
      return server::Response{503, "application/json", parse::dump(diagnose_body(r)), {}};
    case LlmOutcome::kOk:
      break;
  }
  return json_ok(diagnose_body(r));
}

nlohmann::json diagnose_body(const diagnosis::DiagnoseReply& r) {
  // The LLM is down or slow: still give the evidence and the rules-based facts.
  if (r.outcome != LlmOutcome::kOk) {
    return {{"error", r.error}, {"context", r.context}, {"facts", r.facts}};
  }
  return {{"answer", r.answer}, {"model", r.model}, {"context", r.context}};
}

server::Response models_response(const diagnosis::ModelsReply& r) {
  if (r.outcome == LlmOutcome::kBusy) return busy();
  if (r.outcome != LlmOutcome::kOk) return server::json_error(503, r.error);
  // Ollama's /api/tags shape ({"models":[{"name":…,"model":…}]}), as local-k8s-ai-agent passed
  // it through; an OpenAI-compatible server's ids are given the same shape.
  nlohmann::json models = nlohmann::json::array();
  for (const auto& name : r.models) models.push_back({{"name", name}, {"model", name}});
  return json_ok({{"models", std::move(models)}});
}

net::awaitable<server::Response> ask_route(diagnosis::LlmService& llm, std::string question) {
  auto op = llm.ask(std::move(question));
  auto reply = co_await std::move(op);
  co_return ask_response(reply);
}

net::awaitable<server::Response> diagnose_route(diagnosis::LlmService& llm, std::string question,
                                                std::string ns, std::string pod) {
  diagnosis::DiagnoseRequest req;
  req.question = std::move(question);
  req.ns = std::move(ns);
  req.pod = std::move(pod);
  auto op = llm.diagnose(std::move(req));
  auto reply = co_await std::move(op);
  co_return diagnose_response(reply);
}

net::awaitable<server::Response> models_route(diagnosis::LlmService& llm) {
  auto op = llm.models();
  auto reply = co_await std::move(op);
  co_return models_response(reply);
}

}  // namespace podmedic::app
