#pragma once
// The HTTP API as a pure function of the request: /healthz, /readyz, /metrics, /api/incidents,
// and JSON errors (400/401/404/405/413/501). Bearer-token auth (constant-time compare) guards
// /api/*, /ask and /diagnose when a token is configured. Reads pipeline state through the
// callbacks, on the pipeline's thread.
#include <functional>
#include <memory>
#include <string>

#include <prometheus/registry.h>
#include <nlohmann/json.hpp>

#include "server/http_server.h"

namespace podmedic::server {

struct ApiSources {
  std::function<bool()> ready;                // initial sync complete
  std::function<nlohmann::json()> incidents;  // open and recent incidents
  std::shared_ptr<prometheus::Registry> registry;
};

Handler make_api(ApiSources sources, std::string token);

// Constant-time comparison of a presented token with the expected one.
bool token_matches(const std::string& presented, const std::string& expected);

}  // namespace podmedic::server
