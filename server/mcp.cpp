#include "server/mcp.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "core/parse.h"
#include "core/text.h"
#include "server/config.h"

namespace podmedic::server::mcp {

using json = nlohmann::json;
namespace net = boost::asio;

namespace {

// JSON-RPC 2.0 error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kServerError = -32000;  // transport refusals (Origin, protocol version)

// One string argument of a tool. The inputSchema and the validation both come from this table.
struct Param {
  const char* name;
  const char* description;
  bool required;
  std::size_t max_length;
  std::vector<const char*> choices;  // empty: any string
};

struct Tool {
  const char* name;
  const char* title;
  const char* description;
  std::vector<Param> params;
};

const std::vector<Tool>& tools() {
  static const std::vector<Tool> kTools = {
      {"list_incidents",
       "List incidents",
       "Incidents podmedic detected (CrashLoopBackOff, ImagePullBackOff, OOMKilled; one per "
       "broken workload and container), newest first, each with its rules-based facts line. "
       "Open ones by default; resolved ones are the most recent 100.",
       {{"state", "open (default), resolved or all", false, 16, {"open", "resolved", "all"}},
        {"namespace", "only incidents in this namespace", false, 253, {}}}},
      {"get_incident",
       "Get an incident",
       "One incident by id (from list_incidents): its facts, the LLM diagnosis when there is "
       "one, the redacted key log lines and events, the pods, and what the rollout changed.",
       {{"id", "the incident id", true, 128, {}}}},
      {"diagnose",
       "Diagnose a namespace or pod",
       "Gathers live evidence (pod status, the pod's events, previous container logs; "
       "redacted) for a pod, or for the failing pods of a namespace, and asks podmedic's local "
       "LLM for the likely cause. When the LLM is slow, returns the evidence and the "
       "rules-based facts with a note instead. Read-only.",
       {{"namespace", "the Kubernetes namespace (inside podmedic's watch scope)", true, 253, {}},
        {"pod", "one pod; omitted: the namespace's failing pods", false, 253, {}},
        {"question", "what to ask about it (optional)", false, 4000, {}}}},
      {"ask",
       "Ask the DevOps LLM",
       "A general Kubernetes/DevOps question to podmedic's local LLM (no cluster data).",
       {{"question", "the question", true, 4000, {}}}},
  };
  return kTools;
}

json schema_of(const Tool& t) {
  json props = json::object();
  json required = json::array();
  for (const auto& p : t.params) {
    json prop = {{"type", "string"}, {"description", p.description}, {"maxLength", p.max_length}};
    if (p.required) {
      prop["minLength"] = 1;
      required.push_back(p.name);
    }
    if (!p.choices.empty()) prop["enum"] = p.choices;
    props[p.name] = std::move(prop);
  }
  json schema = {{"type", "object"}, {"properties", std::move(props)}};
  if (!required.empty()) schema["required"] = std::move(required);
  schema["additionalProperties"] = false;
  return schema;
}

// The tool's arguments as strings by name, or why they do not fit its schema. Absent and null
// optional arguments read as empty.
std::optional<std::string> read_arguments(const Tool& t, const json& args,
                                          std::map<std::string, std::string>& out) {
  for (const auto& [key, value] : args.items()) {
    bool known = std::any_of(t.params.begin(), t.params.end(),
                             [&key = key](const Param& p) { return key == p.name; });
    if (!known) return "unknown argument \"" + std::string(text::cut_utf8(key, 64)) + "\"";
  }
  for (const auto& p : t.params) {
    const json* v = parse::member(args, p.name);
    if (!v || v->is_null()) {
      if (p.required) return "\"" + std::string(p.name) + "\" is required";
      out[p.name] = "";
      continue;
    }
    auto s = parse::get_string(args, p.name);
    if (!s) return "\"" + std::string(p.name) + "\" must be a string";
    if (p.required && s->empty()) return "\"" + std::string(p.name) + "\" must not be empty";
    if (s->size() > p.max_length)
      return "\"" + std::string(p.name) + "\" is longer than " + std::to_string(p.max_length);
    if (!p.choices.empty() && !s->empty() &&
        std::none_of(p.choices.begin(), p.choices.end(), [&s](const char* c) { return *s == c; }))
      return "\"" + std::string(p.name) + "\" must be one of the listed values";
    out[p.name] = std::move(*s);
  }
  return std::nullopt;
}

bool supported(std::string_view version) {
  return std::find(kProtocolVersions.begin(), kProtocolVersions.end(), version) !=
         kProtocolVersions.end();
}

json error_reply(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json result_reply(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Response http_json(int status, const json& body) {
  return {status, "application/json", parse::dump(body), {}};
}

// An id we can echo exactly: a string or an integer (MCP ids are never null; a float or a
// number beyond 64 bits would not survive the round trip).
bool usable_id(const json& id) {
  return id.is_string() || id.is_number_integer() || id.is_number_unsigned();
}

json call_result(const ToolResult& r, std::string_view version) {
  json out = {{"content", json::array({{{"type", "text"}, {"text", parse::dump(r.structured)}}})},
              {"isError", r.is_error}};
  // structuredContent exists from 2025-06-18 on.
  if (version >= "2025-06-18") out["structuredContent"] = r.structured;
  return out;
}

std::string outside_scope(const std::string& ns) {
  return "namespace \"" + ns + "\" is outside podmedic's watch scope";
}

net::awaitable<ToolResult> run_tool(const McpSources& s, const Tool& t,
                                    std::map<std::string, std::string> a, Deadline deadline) {
  const std::string name = t.name;
  if (name == "list_incidents" || name == "get_incident") {
    static const std::string kNone = "[]";  // before the first snapshot
    auto snapshot = s.incidents ? s.incidents() : nullptr;
    const std::string& body = snapshot ? *snapshot : kNone;
    if (name == "list_incidents")
      co_return list_incidents(body, a["state"].empty() ? "open" : a["state"], a["namespace"],
                               s.namespace_allowed);
    co_return get_incident(body, a["id"], s.namespace_allowed);
  }
  if (name == "diagnose") {
    if (s.namespace_allowed && !s.namespace_allowed(a["namespace"]))
      co_return tool_error(outside_scope(a["namespace"]));
    if (!s.diagnose) co_return tool_error("the LLM is not configured");
    auto op = s.diagnose(a["question"], a["namespace"], a["pod"], deadline);
    co_return co_await std::move(op);
  }
  if (!s.ask) co_return tool_error("the LLM is not configured");
  auto op = s.ask(a["question"], deadline);
  co_return co_await std::move(op);
}

// One JSON-RPC message → its reply, or nullopt for a notification or a client's response.
// `invalid`: the message was not a valid JSON-RPC request (the HTTP status becomes 400).
net::awaitable<std::optional<json>> handle_message(const McpSources& s, const json& msg,
                                                   std::string version, Deadline deadline,
                                                   bool in_batch, bool& invalid) {
  invalid = true;
  if (!msg.is_object())
    co_return error_reply(nullptr, kInvalidRequest, "a JSON-RPC message must be an object");
  const json* id = parse::member(msg, "id");
  const json echo = id && usable_id(*id) ? *id : json(nullptr);
  if (parse::get_string(msg, "jsonrpc") != "2.0")
    co_return error_reply(echo, kInvalidRequest, "\"jsonrpc\" must be \"2.0\"");
  const json* method = parse::member(msg, "method");
  if (!method) {
    // A response to a request of ours (we send none): accepted and dropped.
    if (id && (parse::member(msg, "result") || parse::member(msg, "error"))) {
      invalid = false;
      co_return std::nullopt;
    }
    co_return error_reply(echo, kInvalidRequest, "a request needs a \"method\"");
  }
  if (!method->is_string())
    co_return error_reply(echo, kInvalidRequest, "\"method\" must be a string");
  const std::string m = parse::string_or(msg, "method");
  if (!id) {
    invalid = false;  // a notification (notifications/initialized, cancelled, …): nothing to do
    co_return std::nullopt;
  }
  if (!usable_id(*id))
    co_return error_reply(nullptr, kInvalidRequest, "\"id\" must be a string or an integer");
  invalid = false;
  const json* params = parse::member(msg, "params");
  if (params && !params->is_null() && !params->is_object())
    co_return error_reply(echo, kInvalidParams, "\"params\" must be an object");
  const json no_params = json::object();
  const json& p = params && params->is_object() ? *params : no_params;

  if (m == "initialize") {
    if (in_batch) {
      invalid = true;
      co_return error_reply(echo, kInvalidRequest, "initialize must not be part of a batch");
    }
    auto asked = parse::get_string(p, "protocolVersion");
    if (!asked) co_return error_reply(echo, kInvalidParams, "\"protocolVersion\" must be a string");
    std::string_view chosen = supported(*asked) ? std::string_view(*asked) : kProtocolVersions[0];
    co_return result_reply(
        echo,
        {{"protocolVersion", chosen},
         {"capabilities", {{"tools", {{"listChanged", false}}}}},
         {"serverInfo", {{"name", "podmedic"}, {"title", "podmedic"}, {"version", s.version}}},
         {"instructions",
          "Read-only Kubernetes crash diagnosis: list_incidents and get_incident show what "
          "podmedic detected (redacted evidence, facts, LLM diagnosis); diagnose gathers live "
          "evidence for a namespace or pod; ask is a general question to the local LLM."}});
  }
  if (m == "ping") co_return result_reply(echo, json::object());
  if (m == "tools/list") {
    // One page: the cursor, if any, is ignored.
    co_return result_reply(echo, {{"tools", tools_list()}});
  }
  if (m == "tools/call") {
    auto name = parse::get_string(p, "name");
    if (!name) co_return error_reply(echo, kInvalidParams, "\"name\" must be a string");
    const auto& all = tools();
    auto t = std::find_if(all.begin(), all.end(), [&](const Tool& x) { return *name == x.name; });
    if (t == all.end())
      co_return error_reply(echo, kInvalidParams,
                            "unknown tool \"" + std::string(text::cut_utf8(*name, 64)) + "\"");
    const json* args = parse::member(p, "arguments");
    if (args && !args->is_null() && !args->is_object())
      co_return error_reply(echo, kInvalidParams, "\"arguments\" must be an object");
    std::map<std::string, std::string> values;
    if (auto why = read_arguments(*t, args && args->is_object() ? *args : no_params, values)) {
      // 2025-11-25 asks for input errors as tool results (the model can correct itself);
      // earlier versions for -32602.
      if (version >= "2025-11-25")
        co_return result_reply(echo, call_result(tool_error(*why), version));
      co_return error_reply(echo, kInvalidParams, *why);
    }
    auto op = run_tool(s, *t, std::move(values), deadline);
    auto r = co_await std::move(op);
    co_return result_reply(echo, call_result(r, version));
  }
  co_return error_reply(echo, kMethodNotFound,
                        "method not found: " + std::string(text::cut_utf8(m, 64)));
}

// The host of "scheme://[userinfo@]host[:port][/…]", lower-case, brackets kept for IPv6;
// empty when there is none.
std::string host_of(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  std::string_view host;
  if (!url.empty() && url.front() == '[') {
    auto close = url.find(']');
    if (close == std::string_view::npos) return "";
    host = url.substr(0, close + 1);
  } else {
    host = url.substr(0, url.find(':'));
  }
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// Copies the listed members of `from` that are present.
json pick(const json& from, std::initializer_list<const char*> keys) {
  json out = json::object();
  for (const char* k : keys) {
    if (const json* v = parse::member(from, k); v && !v->is_null()) out[k] = *v;
  }
  return out;
}

Result<json> snapshot_array(const std::string& snapshot) {
  auto parsed = parse::json_text(snapshot, "incident snapshot");
  if (!parsed.ok()) return parsed.error();
  if (!parsed->is_array()) return Error{"incident snapshot: expected an array"};
  return std::move(parsed).value();
}

}  // namespace

ToolResult tool_error(const std::string& message) {
  return ToolResult{{{"error", message}}, true};
}

bool origin_allowed(std::string_view origin, std::string_view external_url) {
  // An Origin is http(s)://host[:port]: "null", another scheme, userinfo or a path are not ours.
  auto sep = origin.find("://");
  if (sep == std::string_view::npos) return false;
  auto scheme = origin.substr(0, sep);
  if (scheme != "http" && scheme != "https") return false;
  if (origin.find_first_of("@/?#", sep + 3) != std::string_view::npos) return false;
  std::string host = host_of(origin);
  if (host.empty()) return false;
  if (!listens_beyond_loopback(host + ":0")) return true;  // localhost, 127.0.0.0/8, [::1]
  return host == host_of(external_url);
}

json tools_list() {
  json out = json::array();
  for (const auto& t : tools()) {
    out.push_back({{"name", t.name},
                   {"title", t.title},
                   {"description", t.description},
                   {"inputSchema", schema_of(t)},
                   {"annotations",
                    {{"title", t.title},
                     {"readOnlyHint", true},
                     {"destructiveHint", false},
                     {"openWorldHint", false}}}});
  }
  return out;
}

ToolResult list_incidents(const std::string& snapshot, const std::string& state,
                          const std::string& ns,
                          const std::function<bool(const std::string&)>& allowed) {
  if (!ns.empty() && allowed && !allowed(ns)) return tool_error(outside_scope(ns));
  auto all = snapshot_array(snapshot);
  if (!all.ok()) return tool_error(all.error().message);
  json listed = json::array();
  std::size_t matched = 0;
  for (const auto& inc : all.value()) {
    if (!parse::get_string(inc, "id")) continue;  // not an incident of ours
    std::string inc_ns = parse::string_or(inc, "namespace");
    if (!ns.empty() && inc_ns != ns) continue;
    if (state != "all" && parse::string_or(inc, "state") != state) continue;
    if (allowed && !allowed(inc_ns)) continue;
    if (++matched > kMaxListed) continue;
    json entry =
        pick(inc, {"id", "state", "namespace", "reason", "workload", "container", "severity",
                   "restarts", "exitCode", "firstSeen", "lastSeen", "resolvedAt", "facts"});
    if (const json* pods = parse::get_array(inc, "pods")) entry["podCount"] = pods->size();
    listed.push_back(std::move(entry));
  }
  json out = {{"incidents", std::move(listed)}, {"total", matched}};
  if (matched > kMaxListed)
    out["note"] = "only the newest " + std::to_string(kMaxListed) +
                  " are listed; filter by namespace or state to see the others";
  return ToolResult{std::move(out), false};
}

ToolResult get_incident(const std::string& snapshot, const std::string& id,
                        const std::function<bool(const std::string&)>& allowed) {
  auto all = snapshot_array(snapshot);
  if (!all.ok()) return tool_error(all.error().message);
  for (const auto& inc : all.value()) {
    if (parse::get_string(inc, "id") != id) continue;
    std::string ns = parse::string_or(inc, "namespace");
    if (allowed && !allowed(ns)) return tool_error(outside_scope(ns));
    return ToolResult{
        pick(inc, {"id",        "state",     "cluster",    "namespace",  "reason",     "workload",
                   "container", "severity",  "runbookUrl", "pods",       "activePods", "restarts",
                   "exitCode",  "firstSeen", "lastSeen",   "resolvedAt", "message",    "facts",
                   "diagnosis", "evidence",  "changes"}),
        false};
  }
  return tool_error("no incident with id \"" + std::string(text::cut_utf8(id, 128)) +
                    "\" (podmedic keeps the open incidents and the 100 most recently resolved)");
}

Handler make_handler(McpSources sources) {
  auto shared = std::make_shared<const McpSources>(std::move(sources));
  return [shared](Request req) -> net::awaitable<Response> {
    const McpSources& s = *shared;
    // DNS rebinding: a page on another site must not reach a server bound to loopback.
    if (!req.origin.empty() && !origin_allowed(req.origin, s.external_url))
      co_return http_json(403, error_reply(nullptr, kServerError, "Origin not allowed"));
    auto parsed = parse::json_text(req.body, "MCP request");
    if (!parsed.ok())
      co_return http_json(
          400, error_reply(nullptr, kParseError, "parse error: " + parsed.error().message));
    const json body = std::move(parsed).value();
    // The negotiated version comes with every request after initialize (stateless: we keep none).
    const bool initialize = body.is_object() && parse::get_string(body, "method") == "initialize";
    std::string version(kVersionWithoutHeader);
    if (!req.mcp_protocol_version.empty() && !initialize) {
      if (!supported(req.mcp_protocol_version))
        co_return http_json(
            400, error_reply(nullptr, kServerError,
                             "unsupported MCP-Protocol-Version \"" +
                                 std::string(text::cut_utf8(req.mcp_protocol_version, 64)) + "\""));
      version = req.mcp_protocol_version;
    }
    // Every tool call of this request shares one deadline, a batch's too.
    const Deadline deadline = std::chrono::steady_clock::now() + s.tool_budget;
    bool invalid = false;
    if (body.is_array()) {
      if (version != "2025-03-26")
        co_return http_json(
            400, error_reply(nullptr, kInvalidRequest,
                             "JSON-RPC batches are not part of protocol version " + version));
      if (body.empty() || body.size() > kMaxBatch)
        co_return http_json(
            400, error_reply(nullptr, kInvalidRequest,
                             "a batch holds 1 to " + std::to_string(kMaxBatch) + " messages"));
      // Each message answered in order; an invalid one gets its error in the array.
      json replies = json::array();
      for (const auto& msg : body) {
        auto op = handle_message(s, msg, version, deadline, true, invalid);
        auto reply = co_await std::move(op);
        if (reply) replies.push_back(std::move(*reply));
      }
      if (replies.empty()) co_return Response{202, "", "", {}};
      co_return http_json(200, replies);
    }
    auto op = handle_message(s, body, version, deadline, false, invalid);
    auto reply = co_await std::move(op);
    if (!reply) co_return Response{202, "", "", {}};  // no body: notifications, responses
    co_return http_json(invalid ? 400 : 200, *reply);
  };
}

}  // namespace podmedic::server::mcp
