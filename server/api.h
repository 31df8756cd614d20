#pragma once
// The HTTP API: /healthz, /readyz, /metrics, /api/incidents, and the LLM routes POST /ask,
// POST /diagnose and GET /models (shapes of local-k8s-ai-agent), with JSON errors
// (400 bad JSON or fields, 401, 404, 405, 413, 429, 503). Bearer-token auth (constant-time
// compare) guards /api/*, /ask, /diagnose and /models when a token is configured. Routing and
// validation are here; the work is done by the callbacks, on the pipeline's thread.
#include <functional>
#include <memory>
#include <string>

#include <prometheus/registry.h>
#include <nlohmann/json.hpp>

#include "server/http_server.h"

namespace podmedic::server {

struct ApiSources {
  std::function<bool()> ready;  // initial sync complete
  // Open and recent incidents: the serialized JSON array, prepared by the pipeline (serving a
  // ready string keeps /api/incidents cheap under many clients).
  std::function<std::shared_ptr<const std::string>()> incidents;
  std::shared_ptr<prometheus::Registry> registry;
  // LLM routes; null: 503.
  std::function<boost::asio::awaitable<Response>(std::string question)> ask;
  std::function<boost::asio::awaitable<Response>(std::string question, std::string ns,
                                                 std::string pod)>
      diagnose;
  std::function<boost::asio::awaitable<Response>()> models;
};

Handler make_api(ApiSources sources, std::string token);

// Constant-time comparison of a presented token with the expected one.
bool token_matches(const std::string& presented, const std::string& expected);

}  // namespace podmedic::server
