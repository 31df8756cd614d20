#include "server/api.h"

#include "core/parse.h"

#include <openssl/crypto.h>

#include <prometheus/text_serializer.h>
#include <algorithm>
#include <optional>
#include <string_view>

#include "server/web_assets.h"

namespace podmedic::server {

using json = nlohmann::json;

bool token_matches(const std::string& presented, const std::string& expected) {
  if (presented.size() != expected.size()) return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

bool is_json_media_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!ct.empty() && space(ct.front())) ct.remove_prefix(1);
  while (!ct.empty() && space(ct.back())) ct.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  if (ct.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < ct.size(); ++i) {
    char c = ct[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kJson[i]) return false;
  }
  return true;
}

namespace {

// POST /api/alertmanager: parsed and sorted here, handed over, 202 at once.
Response alertmanager_route(const ApiSources& src, const Request& req) {
  auto count = [&](PeerFault f) {
    if (src.peer_errors) src.peer_errors->count(Peer::kAlertmanager, f);
  };
  auto parsed = parse_alertmanager_payload(req.body);
  if (const auto* bad = std::get_if<AmPayloadError>(&parsed)) {
    count(bad->fault);
    return json_error(400, bad->message);
  }
  auto& payload = std::get<AmPayload>(parsed);
  if (payload.skipped > 0) count(PeerFault::kWrongType);
  std::vector<AmAlert> take;
  std::size_t out_of_scope = 0;
  for (auto& a : payload.alerts) {
    switch (classify(a, src.namespace_allowed)) {
      case AmDisposition::kDiagnose:
        take.push_back(std::move(a));
        break;
      case AmDisposition::kOutOfScope:
        ++out_of_scope;
        break;
      case AmDisposition::kResolved:
      case AmDisposition::kOurs:
      case AmDisposition::kNoPod:
        break;
    }
  }
  // Only alerts podmedic may not look at: refused like /diagnose outside the scope.
  if (take.empty() && out_of_scope > 0) return json_error(403, "namespace outside the watch scope");
  const std::size_t accepted = take.size();
  if (!take.empty()) src.alertmanager(std::move(take));
  return Response{202,
                  "application/json",
                  parse::dump({{"accepted", accepted},
                               {"ignored", payload.alerts.size() - accepted + payload.skipped}}),
                  {}};
}

// The credentials of "Authorization: Bearer <token>"; the scheme is case-insensitive
// (RFC 9110 §11.1), spaces after it are skipped. nullopt for any other scheme or none.
std::optional<std::string_view> bearer_credentials(std::string_view header) {
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  header.remove_prefix(kScheme.size());
  if (header.front() != ' ') return std::nullopt;
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  return header;
}

// Kubernetes object names: a namespace is a DNS-1123 label (≤ 63), a pod a DNS-1123 subdomain
// (≤ 253). Checked before any API call or LLM prompt is made from them.
bool valid_name(std::string_view s, std::size_t max, bool dots) {
  if (s.empty() || s.size() > max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alnum(c) || c == '-' || (dots && c == '.'); });
}

// Synchronous routes; nullopt for the LLM routes handled by the coroutine.
std::optional<Response> simple_route(const ApiSources& src, const std::string& token,
                                     const Request& req, const std::string& path) {
  bool guarded = path.rfind("/api/", 0) == 0 || path == "/ask" || path == "/diagnose" ||
                 path == "/models" || path == "/mcp";
  if (guarded && !token.empty()) {
    auto presented = bearer_credentials(req.authorization);
    if (!presented || !token_matches(std::string(*presented), token)) {
      auto r = json_error(401, "missing or wrong bearer token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"podmedic\"");
      return r;
    }
  }
  auto only = [&](const char* method) { return req.method == method; };
  // 405 names the method the route takes (RFC 9110 asks for Allow).
  auto wrong_method = [](const char* allow) {
    auto r = json_error(405, std::string("use ") + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  };
  if (const auto* asset = find_asset(path)) {
    if (!only("GET")) return wrong_method("GET");
    // The page talks only to this server: no inline script, no third-party origin.
    return Response{200,
                    std::string(asset->content_type),
                    std::string(asset->body),
                    {{"Cache-Control", "no-cache"},
                     {"X-Content-Type-Options", "nosniff"},
                     {"X-Frame-Options", "DENY"},
                     {"Referrer-Policy", "no-referrer"},
                     {"Content-Security-Policy",
                      "default-src 'self'; script-src 'self'; style-src 'self'; "
                      "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"}}};
  }
  // /health: the route of local-k8s-ai-agent, which podmedic's API stays compatible with.
  if (path == "/healthz" || path == "/health") {
    if (!only("GET")) return wrong_method("GET");
    return Response{200, "application/json", R"({"status":"ok"})", {}};
  }
  if (path == "/readyz") {
    if (!only("GET")) return wrong_method("GET");
    bool ready = src.ready && src.ready();
    if (!ready) return Response{503, "application/json", R"({"status":"syncing"})", {}};
    if (std::string why = src.state_error ? src.state_error() : std::string(); !why.empty()) {
      return Response{503,
                      "application/json",
                      parse::dump({{"status", "state write failing"}, {"error", why}}),
                      {}};
    }
    return Response{200, "application/json", R"({"status":"ready"})", {}};
  }
  if (path == "/metrics") {
    if (!only("GET")) return wrong_method("GET");
    prometheus::TextSerializer text;
    auto families = src.registry->Collect();
    for (const auto& c : src.collectables) {
      auto more = c->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    return Response{200, "text/plain; version=0.0.4; charset=utf-8", text.Serialize(families), {}};
  }
  if (path == "/api/incidents") {
    if (!only("GET")) return wrong_method("GET");
    auto list = src.incidents ? src.incidents() : nullptr;
    std::string body = "{\"cluster\":" + parse::dump(json(src.cluster)) + ",\"incidents\":";
    body += list ? *list : std::string("[]");
    body += "}";
    return Response{200, "application/json", std::move(body), {}};
  }
  if (path == "/models") {
    if (!only("GET")) return wrong_method("GET");
    return std::nullopt;
  }
  if (path == kAlertmanagerRoute) {
    if (!src.alertmanager) return json_error(404, "no route " + path);
    if (!only("POST")) return wrong_method("POST");
    if (!is_json_media_type(req.content_type))
      return json_error(415, "Content-Type must be application/json");
    return alertmanager_route(src, req);
  }
  if (path == "/mcp" && src.mcp) {
    if (!only("POST")) {
      // Streamable HTTP: no server-initiated SSE stream (GET) and no sessions to end (DELETE).
      auto r =
          json_error(405, "use POST: this MCP endpoint answers with JSON and keeps no session");
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    if (!is_json_media_type(req.content_type))
      return json_error(415, "Content-Type must be application/json");
    return std::nullopt;
  }
  if (path == "/ask" || path == "/diagnose") {
    if (!only("POST")) return wrong_method("POST");
    // Browsers send text/plain and form types cross-site without a preflight: only JSON here.
    if (!is_json_media_type(req.content_type))
      return json_error(415, "Content-Type must be application/json");
    return std::nullopt;
  }
  return json_error(404, "no route " + path);
}

// Reads a required non-empty string field; on failure `error` names it.
bool string_field(const json& j, const char* key, bool required, std::string& out,
                  std::string& error) {
  const json* v = parse::member(j, key);
  if (!v || v->is_null()) {
    if (required) error = "\"" + std::string(key) + "\" is required";
    return !required;
  }
  auto text = parse::get_string(j, key);
  if (!text) {
    error = "\"" + std::string(key) + "\" must be a string";
    return false;
  }
  out = std::move(*text);
  if (required && out.empty()) {
    error = "\"" + std::string(key) + "\" must not be empty";
    return false;
  }
  return true;
}

}  // namespace

Handler make_api(ApiSources src, std::string token) {
  auto shared = std::make_shared<const ApiSources>(std::move(src));
  return [shared, token](Request req) -> boost::asio::awaitable<Response> {
    const ApiSources& s = *shared;
    const std::string path = req.target.substr(0, req.target.find('?'));
    if (auto r = simple_route(s, token, req, path)) co_return *r;
    if (path == "/mcp") {
      auto handle = s.mcp;  // named: see the GCC 12 note in http_server.cpp
      auto op = handle(std::move(req));
      co_return co_await std::move(op);
    }
    if (path == "/models") {
      if (!s.models) co_return json_error(503, "LLM not configured");
      auto op = s.models();  // named: see the GCC 12 note in http_server.cpp
      co_return co_await std::move(op);
    }
    auto parsed = parse::json_text(req.body, "body");
    if (!parsed.ok() || !parsed->is_object())
      co_return json_error(400, "body must be a JSON object");
    const json body = std::move(parsed).value();
    std::string question, ns, pod, error;
    bool ask = path == "/ask";
    if (!string_field(body, "question", ask, question, error) ||
        (!ask && (!string_field(body, "namespace", true, ns, error) ||
                  !string_field(body, "pod", false, pod, error)))) {
      co_return json_error(400, error);
    }
    if (!ask && !valid_name(ns, 63, false))
      co_return json_error(400, "\"namespace\" is not a valid namespace name");
    if (!ask && !pod.empty() && !valid_name(pod, 253, true))
      co_return json_error(400, "\"pod\" is not a valid pod name");
    if (!ask && s.namespace_allowed && !s.namespace_allowed(ns))
      co_return json_error(403, "namespace outside the watch scope");
    if (ask) {
      if (!s.ask) co_return json_error(503, "LLM not configured");
      auto op = s.ask(question);
      co_return co_await std::move(op);
    }
    if (!s.diagnose) co_return json_error(503, "LLM not configured");
    auto op = s.diagnose(question, ns, pod);
    co_return co_await std::move(op);
  };
}

}  // namespace podmedic::server
