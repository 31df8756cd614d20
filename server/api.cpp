#include "server/api.h"

#include <openssl/crypto.h>
#include <prometheus/text_serializer.h>

namespace podmedic::server {

bool token_matches(const std::string& presented, const std::string& expected) {
  if (presented.size() != expected.size()) return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

Handler make_api(ApiSources src, std::string token) {
  return [src = std::move(src), token = std::move(token)](const Request& req) -> Response {
    std::string path = req.target.substr(0, req.target.find('?'));
    bool guarded = path.rfind("/api/", 0) == 0 || path == "/ask" || path == "/diagnose";
    if (guarded && !token.empty()) {
      const std::string prefix = "Bearer ";
      if (req.authorization.rfind(prefix, 0) != 0 ||
          !token_matches(req.authorization.substr(prefix.size()), token)) {
        return json_error(401, "missing or wrong bearer token");
      }
    }
    auto only = [&](const char* method) { return req.method == method; };
    if (path == "/healthz") {
      if (!only("GET")) return json_error(405, "use GET");
      return {200, "application/json", R"({"status":"ok"})"};
    }
    if (path == "/readyz") {
      if (!only("GET")) return json_error(405, "use GET");
      bool ready = src.ready && src.ready();
      return {ready ? 200 : 503, "application/json",
              ready ? R"({"status":"ready"})" : R"({"status":"syncing"})"};
    }
    if (path == "/metrics") {
      if (!only("GET")) return json_error(405, "use GET");
      prometheus::TextSerializer text;
      return {200, "text/plain; version=0.0.4; charset=utf-8",
              text.Serialize(src.registry->Collect())};
    }
    if (path == "/api/incidents") {
      if (!only("GET")) return json_error(405, "use GET");
      nlohmann::json j = {{"incidents", src.incidents ? src.incidents() : nlohmann::json::array()}};
      return {200, "application/json",
              j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    }
    if (path == "/ask" || path == "/diagnose" || path == "/models") {
      return json_error(501, "not available yet: LLM diagnosis arrives with the diagnosis module");
    }
    return json_error(404, "no route " + path);
  };
}

}  // namespace podmedic::server
