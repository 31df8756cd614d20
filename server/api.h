#pragma once
// The HTTP API: /healthz, /readyz, /metrics, /api/incidents, and the LLM routes POST /ask,
// POST /diagnose and GET /models (shapes of local-k8s-ai-agent), with JSON errors
// (400 bad JSON or fields, 401, 403, 404, 405, 413, 415, 429, 503). Bearer-token auth
// (constant-time compare) guards /api/*, /ask, /diagnose, /models and /mcp when a token is
// configured. POST /mcp is the MCP endpoint (server/mcp.h); GET and other methods there: 405.
// POST routes take only the media type application/json (parameters such as charset allowed;
// 415 otherwise: a cross-site form or text/plain POST is never served). /diagnose refuses a
// namespace outside the watch scope (403), and so does POST /api/alertmanager when every alert
// it would diagnose is outside it. Routing and validation are here; the work is done by the
// callbacks, on the pipeline's thread.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>
#include <nlohmann/json.hpp>

#include "core/peer_errors.h"
#include "server/alertmanager_payload.h"
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
  // Whether a namespace is in the watch scope (watch.namespaces / excludeNamespaces); /diagnose
  // outside it: 403. Null: every namespace.
  std::function<bool(const std::string& ns)> namespace_allowed;
  // Why persisted state cannot be written right now (empty: it can). Non-empty makes /readyz 503:
  // a replica that cannot remember what it announced should not be trusted with alerts.
  std::function<std::string()> state_error;
  // POST /api/alertmanager (Alertmanager's webhook, version 4): the alerts to diagnose (firing,
  // with namespace and pod labels inside the watch scope, not podmedic's own), handed over on
  // the HTTP thread; the route answers 202 at once. Null: 404.
  std::function<void(std::vector<AmAlert> alerts)> alertmanager;
  // Where unusable Alertmanager payloads are counted (peer "alertmanager"); may be null.
  PeerErrors* peer_errors = nullptr;
  // POST /mcp (server/mcp.h's make_handler), after the token and the media type; null: 404.
  Handler mcp;
  // More metrics for /metrics beside the registry's (the process_* collector).
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
  // cluster.name, served as "cluster" beside the incidents so the page can name the cluster
  // even when nothing is broken.
  std::string cluster;
};

// The one route with a larger body limit: Alertmanager groups can be large.
inline constexpr const char* kAlertmanagerRoute = "/api/alertmanager";
inline constexpr std::size_t kAlertmanagerBodyLimit = 1u << 20;

Handler make_api(ApiSources sources, std::string token);

// Constant-time comparison of a presented token with the expected one.
bool token_matches(const std::string& presented, const std::string& expected);

// Whether a Content-Type header names application/json: the media type without its parameters,
// case-insensitive, surrounding spaces ignored ("Application/JSON; charset=utf-8" is).
bool is_json_media_type(std::string_view content_type);

}  // namespace podmedic::server
