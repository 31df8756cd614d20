#pragma once
// The LLM routes of the HTTP API (/ask, /diagnose, /models) over diagnosis::LlmService: its
// replies as HTTP responses. 429 (Retry-After 5) when kMaxRequests are in flight; 503 when the
// LLM fails (/diagnose still returns the redacted context and the rules-based facts); /diagnose:
// 502 when the namespace cannot be listed or a pod's evidence cannot be gathered, 404 when the
// pod does not exist. Run on the service's thread (the pipeline's).
#include <string>

#include <nlohmann/json.hpp>

#include <boost/asio/awaitable.hpp>

#include "diagnosis/llm_service.h"
#include "server/http_server.h"

namespace podmedic::app {

boost::asio::awaitable<server::Response> ask_route(diagnosis::LlmService& llm,
                                                   std::string question);
boost::asio::awaitable<server::Response> diagnose_route(diagnosis::LlmService& llm,
                                                        std::string question, std::string ns,
                                                        std::string pod);
boost::asio::awaitable<server::Response> models_route(diagnosis::LlmService& llm);

server::Response ask_response(const diagnosis::AskReply& r);
server::Response diagnose_response(const diagnosis::DiagnoseReply& r);
server::Response models_response(const diagnosis::ModelsReply& r);
// The `POST /diagnose` body of a reply that answered (kOk) or whose LLM failed (kLlmError):
// {answer, model, context} or {error, context, facts}; also `podmedic diagnose -o json`'s.
nlohmann::json diagnose_body(const diagnosis::DiagnoseReply& r);

}  // namespace podmedic::app
