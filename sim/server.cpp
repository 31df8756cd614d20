#include "sim/server.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cassert>
#include <charconv>
#include <ctime>
#include <list>
#include <map>
#include <optional>
#include <sstream>
#include <variant>

#include "core/log.h"
#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"
#include "k8s/connection.h"
#include "sim/route.h"
#include "sim/table.h"
#include "sim/tls.h"

namespace podmedic::sim {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;

namespace {
constexpr auto kUse = net::as_tuple(net::use_awaitable);
constexpr std::size_t kMaxRequestBody = 1 << 20;  // bytes of a POST/PUT body

struct WatchSession {
  Res res;
  std::string ns;
  Selector labels, fields;
  bool bookmarks = false;
  std::string pending;     // serialized events waiting to be flushed
  bool dropped = false;    // close abruptly
  bool end_clean = false;  // finish the response cleanly
  bool expire = false;     // send ERROR 410 then finish
  bool table = false;      // kubectl get -w: each object as a one-row Table (sim/table.h)
  std::unique_ptr<net::steady_timer> wake;
};

// The object of one watch event for `w`: the object itself, or its Table row.
std::string watch_object(const WatchSession& w, const Object& o) {
  std::string obj = Store::with_kind(w.res, o);
  if (!w.table) return obj;
  auto table = to_table(w.res, obj, std::time(nullptr));
  return table ? std::move(*table) : obj;
}

std::string event_line(const char* type, const std::string& object_json) {
  std::string s = "{\"type\":\"";
  s += type;
  s += "\",\"object\":";
  s += object_json;
  s += "}\n";
  return s;
}

std::string status_line(const ApiStatus& st) {
  return event_line("ERROR", parse::dump(status_json(st)));
}

// Integer query parameters as the apiserver's parameter codec reads them: empty means unset; a
// value strconv.ParseInt rejects is 400 BadRequest naming the parameter.
template <class T>
std::variant<std::optional<T>, ApiStatus> int_param(const std::map<std::string, std::string>& q,
                                                    const char* name) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return std::optional<T>();
  if (auto v = parse::integer<T>(it->second)) return std::optional<T>(*v);
  const std::string& text = it->second;
  bool digits = text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string::npos &&
                text != "-";
  return ApiStatus{400, "BadRequest",
                   std::string("invalid value for ") + name + ": strconv.ParseInt: parsing \"" +
                       std::string(text::cut_utf8(text, 64)) +
                       "\": " + (digits ? "value out of range" : "invalid syntax")};
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto p = s.find(sep, start);
    if (p == std::string_view::npos) p = s.size();
    if (p > start) out.emplace_back(s.substr(start, p - start));
    start = p + 1;
  }
  return out;
}

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace

struct ApiServer::State : std::enable_shared_from_this<ApiServer::State> {
  net::io_context& ioc;
  ServerOptions opts;
  Store store;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::unique_ptr<tcp::acceptor>> retired;
  std::unique_ptr<ssl::context> tls;
  TestCert cert;
  unsigned short port = 0;
  std::string address = "127.0.0.1";
  std::list<std::shared_ptr<WatchSession>> watches;
  std::map<std::uint64_t, std::function<void()>> closers;  // open connections
  std::uint64_t next_conn = 0;
  std::vector<Fault> faults;
  std::map<std::string, std::pair<std::string, std::string>> logs;  // ns/pod/container → cur, prev
  ServerStats stats;
  std::uint64_t split_counter = 0;

  State(net::io_context& io, ServerOptions o)
      : ioc(io), opts(std::move(o)), store(opts.history_limit) {}

  void notify(const std::shared_ptr<WatchSession>& w) {
    if (w->wake) w->wake->cancel();
  }

  // Fan-out of a change to the open watches, with selector transitions (an object that stops
  // matching is sent as DELETED, one that starts matching as ADDED).
  static const char* filtered_type(const WatchSession& w, const Change& c) {
    bool now = Store::matches(*c.obj, w.ns, w.labels, w.fields);
    bool before = c.prev && Store::matches(*c.prev, w.ns, w.labels, w.fields);
    switch (c.type) {
      case ChangeType::kAdded:
        return now ? "ADDED" : nullptr;
      case ChangeType::kDeleted:
        return before ? "DELETED" : nullptr;
      case ChangeType::kModified:
        if (now && before) return "MODIFIED";
        if (now) return "ADDED";
        if (before) return "DELETED";
        return nullptr;
    }
    return nullptr;
  }

  void on_change(const Change& c) {
    for (auto& w : watches) {
      if (w->res != c.res) continue;
      if (const char* t = filtered_type(*w, c)) {
        w->pending += event_line(t, watch_object(*w, *c.obj));
        notify(w);
      }
    }
  }

  std::optional<Fault> take_fault(const std::string& path, bool is_watch) {
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (path.rfind(it->path_prefix, 0) != 0) continue;
      if (it->only == Fault::kWatch && !is_watch) continue;
      if (it->only == Fault::kList && is_watch) continue;
      Fault f = *it;
      if (--it->count <= 0) faults.erase(it);
      ++stats.faults;
      return f;
    }
    return std::nullopt;
  }

  Response respond(const Request& req, http::status st, std::string body,
                   const char* type = "application/json") {
    Response res{st, req.version()};
    res.set(http::field::server, "podmedic-sim");
    res.set(http::field::content_type, type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  Response error(const Request& req, const ApiStatus& s, const std::string& kind = "",
                 const std::string& name = "") {
    return respond(req, static_cast<http::status>(s.code), parse::dump(status_json(s, kind, name)));
  }

  Response not_found(const Request& req) {
    return error(req,
                 ApiStatus{404, "NotFound", "the server could not find the requested resource"});
  }

  Response fault_response(const Request& req, const Fault& f) {
    Response res;
    if (f.plain_text) {
      res = respond(req, static_cast<http::status>(f.status),
                    "Too many requests, please try again later.\n", "text/plain; charset=utf-8");
    } else {
      static const std::map<int, std::pair<const char*, const char*>> kinds = {
          {401, {"Unauthorized", "Unauthorized"}},
          {403,
           {"Forbidden",
            "pods is forbidden: User \"system:serviceaccount:podmedic:podmedic\" cannot list "
            "resource \"pods\" in API group \"\" at the cluster scope"}},
          {429, {"TooManyRequests", "Too many requests, please try again later."}},
          {500, {"InternalError", "Internal error occurred: injected fault"}},
          {503, {"ServiceUnavailable", "apiserver is shutting down"}},
          {504, {"Timeout", "Timeout: request did not complete within the allotted timeout"}}};
      auto it = kinds.find(f.status);
      ApiStatus s{f.status, it != kinds.end() ? it->second.first : "InternalError",
                  it != kinds.end() ? it->second.second : "injected fault"};
      json j = status_json(s);
      if (f.retry_after >= 0) j["details"] = {{"retryAfterSeconds", f.retry_after}};
      res = respond(req, static_cast<http::status>(f.status), parse::dump(j));
    }
    if (f.retry_after >= 0) res.set(http::field::retry_after, std::to_string(f.retry_after));
    return res;
  }

  bool authorized(const Request& req) {
    if (opts.token.empty()) return true;
    return req[http::field::authorization] == "Bearer " + opts.token;
  }

  Response discovery(const Request& req, const Route& route) {
    auto resource = [](const char* name, const char* kind, bool namespaced, json shorts) {
      return json{{"name", name},
                  {"singularName", ""},
                  {"namespaced", namespaced},
                  {"kind", kind},
                  {"verbs", {"get", "list", "watch"}},
                  {"shortNames", shorts}};
    };
    if (route.prefix == "api" && route.group_version.empty()) {
      return respond(
          req, http::status::ok,
          parse::dump(json{{"kind", "APIVersions"},
                           {"versions", {"v1"}},
                           {"serverAddressByClientCIDRs",
                            {{{"clientCIDR", "0.0.0.0/0"},
                              {"serverAddress", address + ":" + std::to_string(port)}}}}}));
    }
    if (route.prefix == "apis" && route.group_version.empty()) {
      return respond(
          req, http::status::ok,
          parse::dump(
              json{{"kind", "APIGroupList"},
                   {"apiVersion", "v1"},
                   {"groups",
                    {{{"name", "apps"},
                      {"versions", {{{"groupVersion", "apps/v1"}, {"version", "v1"}}}},
                      {"preferredVersion", {{"groupVersion", "apps/v1"}, {"version", "v1"}}}}}}}));
    }
    if (route.prefix == "api" && route.group_version == "v1") {
      return respond(req, http::status::ok,
                     parse::dump(json{{"kind", "APIResourceList"},
                                      {"groupVersion", "v1"},
                                      {"resources",
                                       {resource("pods", "Pod", true, {"po"}),
                                        resource("pods/log", "Pod", true, json::array()),
                                        resource("events", "Event", true, {"ev"}),
                                        resource("namespaces", "Namespace", false, {"ns"}),
                                        resource("nodes", "Node", false, {"no"})}}}));
    }
    if (route.prefix == "apis" && route.group_version == "apps/v1") {
      return respond(
          req, http::status::ok,
          parse::dump(json{
              {"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", "apps/v1"},
              {"resources",
               {resource("replicasets", "ReplicaSet", true, {"rs"}),
                resource("deployments", "Deployment", true, {"deploy"}),
                resource("controllerrevisions", "ControllerRevision", true, json::array())}}}));
    }
    return not_found(req);
  }

  Response pod_logs(const Request& req, const Route& route) {
    ++stats.logs;
    const std::string& ns = route.ns;
    const std::string& name = route.name;
    auto pod = store.get(Res::kPods, ns, name);
    if (!pod)
      return error(req, ApiStatus{404, "NotFound", "pods \"" + name + "\" not found"}, "pods",
                   name);
    std::vector<std::string> names;
    if (const json* spec = parse::get_object(*pod, "spec")) {
      for (const char* key : {"containers", "initContainers"}) {
        if (const json* list = parse::get_array(*spec, key)) {
          for (const auto& c : *list) names.push_back(parse::string_or(c, "name"));
        }
      }
    }
    std::string container = route.param("container");
    if (container.empty()) {
      if (names.size() != 1) {
        std::string list;
        for (auto& n : names) list += (list.empty() ? "" : " ") + n;
        return error(req, ApiStatus{400, "BadRequest",
                                    "a container name must be specified for pod " + name +
                                        ", choose one of: [" + list + "]"});
      }
      container = names[0];
    }
    if (std::find(names.begin(), names.end(), container) == names.end()) {
      return error(req, ApiStatus{400, "BadRequest",
                                  "container " + container + " is not valid for pod " + name});
    }
    // PodLogOptions as the apiserver decodes and validates them.
    auto tail = int_param<long>(route.query, "tailLines");
    if (auto* st = std::get_if<ApiStatus>(&tail)) return error(req, *st);
    auto limit_bytes = int_param<long long>(route.query, "limitBytes");
    if (auto* st = std::get_if<ApiStatus>(&limit_bytes)) return error(req, *st);
    const auto tail_lines = std::get<std::optional<long>>(tail);
    const auto max_bytes = std::get<std::optional<long long>>(limit_bytes);
    if (tail_lines && *tail_lines < 0) {
      return error(
          req, ApiStatus{422, "Invalid",
                         "PodLogOptions \"" + name + "\" is invalid: tailLines: Invalid value: " +
                             std::to_string(*tail_lines) + ": must be greater than or equal to 0"});
    }
    if (max_bytes && *max_bytes < 1) {
      return error(
          req, ApiStatus{422, "Invalid",
                         "PodLogOptions \"" + name + "\" is invalid: limitBytes: Invalid value: " +
                             std::to_string(*max_bytes) + ": must be greater than 0"});
    }
    bool previous = route.param("previous") == "true" || route.param("previous") == "1";
    static const json kNoStatus = json::object();
    const json* cs = &kNoStatus;
    if (const json* status = parse::get_object(*pod, "status")) {
      for (const char* key : {"containerStatuses", "initContainerStatuses"}) {
        if (const json* list = parse::get_array(*status, key)) {
          for (const auto& s : *list) {
            if (parse::string_or(s, "name") == container) cs = &s;
          }
        }
      }
    }
    int restarts = parse::integer_or<int>(*cs, "restartCount", 0);
    if (previous && restarts == 0) {
      return error(req, ApiStatus{400, "BadRequest",
                                  "previous terminated container \"" + container + "\" in pod \"" +
                                      name + "\" not found"});
    }
    const json* state = parse::get_object(*cs, "state");
    const json* waiting = state ? parse::get_object(*state, "waiting") : nullptr;
    if (!previous && waiting && restarts == 0) {
      std::string reason = parse::string_or(*waiting, "reason");
      std::string why = reason == "ErrImagePull"       ? "trying and failing to pull image"
                        : reason == "ImagePullBackOff" ? "image can't be pulled"
                                                       : reason;
      return error(req, ApiStatus{400, "BadRequest",
                                  "container \"" + container + "\" in pod \"" + name +
                                      "\" is waiting to start: " + why});
    }
    auto& entry = logs[ns + "/" + name + "/" + container];
    std::string text = previous ? entry.second : entry.first;
    if (tail_lines) {
      long n = *tail_lines;
      std::size_t pos = text.size();
      if (pos > 0 && text[pos - 1] == '\n') --pos;
      long lines = 0;
      while (pos > 0 && lines < n) {
        auto p = text.rfind('\n', pos - 1);
        ++lines;
        if (p == std::string::npos) {
          pos = 0;
          break;
        }
        if (lines == n) {
          pos = p + 1;
          break;
        }
        pos = p;
      }
      if (n == 0) pos = text.size();
      text = text.substr(pos);
    }
    if (route.param("timestamps") == "true") {
      std::string out;
      for (auto& line : split(text, '\n')) out += "2026-01-01T00:00:00.000000000Z " + line + "\n";
      text = out;
    }
    // Bytes, as the kubelet's limit writer cuts them (a character may be split).
    if (max_bytes && text.size() > static_cast<unsigned long long>(*max_bytes)) {
      text.resize(static_cast<std::size_t>(*max_bytes));
    }
    return respond(req, http::status::ok, text, "text/plain");
  }

  // POST (create) and PUT (update, optimistic concurrency on metadata.resourceVersion) of the
  // objects leader election writes: Leases and ConfigMaps. Everything else stays read-only.
  Response write(const Request& req, const Route& route) {
    const std::optional<Res> res = route.ns.empty() ? std::nullopt : route.resource;
    if (!res || (*res != Res::kLeases && *res != Res::kConfigMaps)) {
      return error(req, ApiStatus{405, "MethodNotAllowed",
                                  "the simulated API server writes only leases and configmaps"});
    }
    // Go's encoding/json (and so the apiserver) reads invalid UTF-8 inside JSON strings as
    // U+FFFD, one per bad byte; nlohmann's parser rejects it. Repairing the body first keeps the
    // simulator's answer the apiserver's.
    auto parsed = parse::json_text(text::replace_invalid_utf8(req.body()), "request body");
    if (!parsed.ok() || !parsed->is_object()) {
      return error(
          req, ApiStatus{400, "BadRequest", "the body of the request was in an unknown format"});
    }
    json body = std::move(*parsed);
    // Wrong-typed fields are the apiserver's 400 before anything touches them.
    if (auto bad = validate_write(*res, body)) return error(req, *bad);
    body["metadata"]["namespace"] = route.ns;  // metadata is an object or absent (then created)
    std::variant<ObjPtr, ApiStatus> r;
    http::status ok = http::status::ok;
    if (req.method() == http::verb::post && route.kind == RouteKind::kCollection) {
      r = store.create(*res, std::move(body));
      ok = http::status::created;
    } else if (req.method() == http::verb::put && route.kind == RouteKind::kObject) {
      const std::string body_name = parse::string_or(body["metadata"], "name");
      if (body_name != route.name) {
        return error(req,
                     ApiStatus{400, "BadRequest",
                               "the name of the object (" + body_name +
                                   ") does not match the name on the URL (" + route.name + ")"});
      }
      r = store.update(*res, std::move(body));
    } else {
      return error(req, ApiStatus{405, "MethodNotAllowed",
                                  "use POST on the collection or PUT on an object"});
    }
    if (auto* st = std::get_if<ApiStatus>(&r)) return error(req, *st);
    ++stats.writes;
    return respond(req, ok, Store::with_kind(*res, *std::get<ObjPtr>(r)));
  }

  // Non-watch requests: a pure function of the request and the store.
  Response handle(const Request& req, const Route& route) {
    switch (route.kind) {
      case RouteKind::kUnknown:
      case RouteKind::kTooDeep:
        return not_found(req);
      case RouteKind::kVersion:
        return respond(req, http::status::ok,
                       parse::dump(json{{"major", "1"},
                                        {"minor", "33"},
                                        {"gitVersion", "v1.33.0-podmedic-sim"},
                                        {"platform", "linux/amd64"}}));
      case RouteKind::kDiscovery:
        return discovery(req, route);
      case RouteKind::kSubresource:
        if (route.resource == Res::kPods && route.subresource == "log") return pod_logs(req, route);
        return not_found(req);
      case RouteKind::kObject:
        return get(req, route);
      case RouteKind::kCollection:
        return list(req, route);
    }
    return not_found(req);
  }

  Response get(const Request& req, const Route& route) {
    if (!route.resource) return not_found(req);
    const Res res = *route.resource;
    auto obj = store.get_ptr(res, route.ns, route.name);
    if (!obj) {
      return error(req,
                   ApiStatus{404, "NotFound",
                             std::string(info(res).plural) + " \"" + route.name + "\" not found"},
                   info(res).plural, route.name);
    }
    ++stats.gets;
    return respond(req, http::status::ok, Store::with_kind(res, *obj));
  }

  Response list(const Request& req, const Route& route) {
    if (!route.resource) return not_found(req);
    const Res res = *route.resource;
    ListQuery lq;
    lq.ns = route.ns;
    if (auto e = parse_label_selector(route.param("labelSelector"), lq.labels))
      return error(req, *e);
    if (auto e = parse_field_selector(res, route.param("fieldSelector"), lq.fields))
      return error(req, *e);
    auto limit = int_param<long long>(route.query, "limit");
    if (auto* st = std::get_if<ApiStatus>(&limit)) return error(req, *st);
    lq.limit = std::get<std::optional<long long>>(limit).value_or(0);
    lq.continue_token = route.param("continue");
    lq.resource_version = route.param("resourceVersion");
    lq.resource_version_match = route.param("resourceVersionMatch");
    ++stats.lists;
    auto r = store.list(res, lq);
    if (auto* st = std::get_if<ApiStatus>(&r)) {
      auto out = error(req, *st);
      if (st->code == 504) out.set(http::field::retry_after, "1");
      return out;
    }
    return respond(req, http::status::ok, std::move(std::get<ListResult>(r).body));
  }
};

namespace {

using StatePtr = std::shared_ptr<ApiServer::State>;

template <class Stream>
net::awaitable<void> write_chunk(Stream& stream, const std::string& data, bool& ok) {
  auto [ec, n] = co_await net::async_write(stream, http::make_chunk(net::buffer(data)), kUse);
  ok = !ec;
}

template <class Stream>
void close_stream(Stream& stream) {
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(stream).socket().close(ec);
}

// A request that cannot be read is answered as Go's net/http and the apiserver do before the
// connection closes: an oversized body gets the apiserver's 413 Status, oversized headers 431 and
// any other malformed request 400 (plain text). The rest of the request is drained (bounded in
// bytes and time) so the peer is not reset before it reads the answer. A closed or reset
// connection gets nothing.
template <class Stream>
net::awaitable<void> reject_unreadable(StatePtr s, Stream& stream, beast::flat_buffer& buffer,
                                       http::request_parser<http::string_body>& parser,
                                       boost::system::error_code ec) {
  if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
      ec == http::error::end_of_stream || ec == http::error::partial_message) {
    co_return;
  }
  Request head;
  head.version(parser.is_header_done() ? parser.get().version() : 11);
  head.keep_alive(false);
  Response r;
  if (ec == http::error::body_limit) {
    r = s->error(
        head, ApiStatus{413, "RequestEntityTooLarge",
                        "Request entity too large: limit is " + std::to_string(kMaxRequestBody)});
  } else if (ec == http::error::header_limit) {
    r = s->respond(head, http::status::request_header_fields_too_large,
                   "431 Request Header Fields Too Large", "text/plain; charset=utf-8");
  } else {
    r = s->respond(head, http::status::bad_request, "400 Bad Request", "text/plain; charset=utf-8");
  }
  r.keep_alive(false);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  auto [wec, wn] = co_await http::async_write(stream, r, kUse);
  if (wec) co_return;
  boost::system::error_code sec;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, sec);
  std::size_t drained = 0;
  while (drained < 8 * kMaxRequestBody) {
    buffer.consume(buffer.size());
    auto [rec, rn] =
        co_await beast::get_lowest_layer(stream).async_read_some(buffer.prepare(64 * 1024), kUse);
    if (rec) break;
    drained += rn;
  }
}

// `kubectl get` asks for a Table (sim/table.h): a pods or events list or object answered 200
// becomes one, timed by the wall clock as the apiserver's ages are.
void as_table_if_asked(const Request& req, const Route& route, Response& r) {
  if (!route.resource || r.result() != http::status::ok ||
      (route.kind != RouteKind::kObject && route.kind != RouteKind::kCollection) ||
      !wants_table(std::string_view(req[http::field::accept]))) {
    return;
  }
  if (auto table = to_table(*route.resource, r.body(), std::time(nullptr))) {
    r.body() = std::move(*table);
    r.set(http::field::content_type, kTableContentType);
    r.prepare_payload();
  }
}

// Streams one watch on `stream`; returns when it ends (timeout, drop, expiry or error).
template <class Stream>
net::awaitable<void> serve_watch(StatePtr s, Stream& stream, const Request& req, Route route) {
  assert(route.kind == RouteKind::kCollection && route.resource);  // the caller checked
  const Res res = *route.resource;
  const std::string& ns = route.ns;
  auto w = std::make_shared<WatchSession>();
  w->res = res;
  w->ns = ns;
  w->table = wants_table(std::string_view(req[http::field::accept]));
  if (auto e = parse_label_selector(route.param("labelSelector"), w->labels)) {
    auto r = s->error(req, *e);
    co_await http::async_write(stream, r, kUse);
    co_return;
  }
  if (auto e = parse_field_selector(res, route.param("fieldSelector"), w->fields)) {
    auto r = s->error(req, *e);
    co_await http::async_write(stream, r, kUse);
    co_return;
  }
  w->bookmarks =
      route.param("allowWatchBookmarks") == "true" || route.param("allowWatchBookmarks") == "1";
  bool send_initial = route.param("sendInitialEvents") == "true";
  if (send_initial && route.param("resourceVersionMatch") != "NotOlderThan") {
    auto r = s->error(
        req, ApiStatus{422, "Invalid",
                       "sendInitialEvents is forbidden unless resourceVersionMatch=NotOlderThan"});
    co_await http::async_write(stream, r, kUse);
    co_return;
  }
  // timeoutSeconds: an int64 (else 400, as the apiserver's decoder answers); unset means the
  // simulator's 30 min. Out-of-range values are clamped so the deadline cannot overflow the clock
  // (the apiserver multiplies into a Go Duration and wraps; a test never wants that).
  auto timeout_param = int_param<long long>(route.query, "timeoutSeconds");
  if (auto* st = std::get_if<ApiStatus>(&timeout_param)) {
    auto r = s->error(req, *st);
    co_await http::async_write(stream, r, kUse);
    co_return;
  }
  constexpr long long kMaxWatchSeconds = 10LL * 365 * 24 * 3600;
  const long long timeout_s = std::clamp(
      std::get<std::optional<long long>>(timeout_param).value_or(1800), 0LL, kMaxWatchSeconds);
  const std::string& rv = route.param("resourceVersion");
  // Initial state: synthetic ADDED for RV unset/0 (or sendInitialEvents), else replay after RV.
  if (rv.empty() || rv == "0" || send_initial) {
    for (auto& o : s->store.all(res, ns)) {
      if (Store::matches(*o, ns, w->labels, w->fields)) {
        w->pending += event_line("ADDED", watch_object(*w, *o));
      }
    }
    if (send_initial && w->bookmarks) {
      json bm = {{"kind", info(res).kind},
                 {"apiVersion", info(res).api_version},
                 {"metadata",
                  {{"resourceVersion", std::to_string(s->store.current_rv())},
                   {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
      w->pending += event_line("BOOKMARK", parse::dump(bm));
    }
  } else {
    std::uint64_t from = 0;
    auto [p, fec] = std::from_chars(rv.data(), rv.data() + rv.size(), from);
    if (fec != std::errc() || p != rv.data() + rv.size()) {
      auto r = s->error(req, ApiStatus{400, "BadRequest", "invalid resource version: " + rv});
      co_await http::async_write(stream, r, kUse);
      co_return;
    }
    auto changes = s->store.changes_since(res, from);
    if (auto* st = std::get_if<ApiStatus>(&changes)) {
      w->pending = status_line(*st);
      w->expire = true;  // after the ERROR event the server closes the stream
    } else {
      for (auto& c : std::get<std::vector<Change>>(changes)) {
        if (const char* t = ApiServer::State::filtered_type(*w, c)) {
          w->pending += event_line(t, watch_object(*w, *c.obj));
        }
      }
    }
  }
  auto ex = co_await net::this_coro::executor;
  w->wake = std::make_unique<net::steady_timer>(ex);
  if (!w->expire) s->watches.push_back(w);
  ++s->stats.watches;

  http::response<http::empty_body> head{http::status::ok, req.version()};
  head.set(http::field::server, "podmedic-sim");
  head.set(http::field::content_type, "application/json");
  head.chunked(true);
  http::response_serializer<http::empty_body> sr{head};
  auto [hec, hn] = co_await http::async_write_header(stream, sr, kUse);

  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(timeout_s);
  auto next_bookmark = start + s->opts.bookmark_interval;
  bool ok = !hec;
  while (ok) {
    if (!w->pending.empty()) {
      std::string batch = std::move(w->pending);
      w->pending.clear();
      if (s->opts.split_chunks && batch.size() >= 2) {
        // One event may span chunks: cut the batch at a varying point.
        std::size_t cut = 1 + (s->split_counter++ * 7919) % (batch.size() - 1);
        std::string first = batch.substr(0, cut), second = batch.substr(cut);
        co_await write_chunk(stream, first, ok);
        if (ok) co_await write_chunk(stream, second, ok);
      } else {
        co_await write_chunk(stream, batch, ok);
      }
      continue;
    }
    if (w->dropped) break;
    if (w->expire) {
      w->end_clean = true;
    }
    if (w->end_clean) {
      [[maybe_unused]] auto [ec, n] =
          co_await net::async_write(stream, http::make_chunk_last(), kUse);
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      w->end_clean = true;
      continue;
    }
    if (w->bookmarks && now >= next_bookmark) {
      json bm = {{"kind", info(res).kind},
                 {"apiVersion", info(res).api_version},
                 {"metadata", {{"resourceVersion", std::to_string(s->store.current_rv())}}}};
      w->pending += event_line("BOOKMARK", parse::dump(bm));
      next_bookmark = now + s->opts.bookmark_interval;
      continue;
    }
    w->wake->expires_at(w->bookmarks ? std::min(deadline, next_bookmark) : deadline);
    [[maybe_unused]] auto [tec] = co_await w->wake->async_wait(kUse);
  }
  s->watches.remove(w);
  if (w->dropped) close_stream(stream);
}

// One connection: requests in a loop (keep-alive); a watch ends the connection.
template <class Stream>
net::awaitable<void> serve_connection(StatePtr s, Stream stream) {
  std::uint64_t id = s->next_conn++;
  s->closers[id] = [&stream] { close_stream(stream); };
  struct Unregister {
    StatePtr s;
    std::uint64_t id;
    ~Unregister() { s->closers.erase(id); }
  } unregister{s, id};

  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    beast::get_lowest_layer(stream).expires_after(std::chrono::minutes(5));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUse);
    if (ec) {
      co_await reject_unreadable(s, stream, buffer, parser, ec);
      break;
    }
    beast::get_lowest_layer(stream).expires_never();
    Request req = parser.release();
    const Route route = parse_route(std::string_view(req.target().data(), req.target().size()));
    if (!s->authorized(req)) {
      ++s->stats.unauthorized;
      auto r = s->error(req, ApiStatus{401, "Unauthorized", "Unauthorized"});
      auto [wec, wn] = co_await http::async_write(stream, r, kUse);
      if (wec || !req.keep_alive()) break;
      continue;
    }
    if (auto f = s->take_fault(route.path, route.watch())) {
      auto r = s->fault_response(req, *f);
      auto [wec, wn] = co_await http::async_write(stream, r, kUse);
      if (wec || !req.keep_alive()) break;
      continue;
    }
    if (req.method() == http::verb::post || req.method() == http::verb::put) {
      auto r = s->write(req, route);
      auto [wec, wn] = co_await http::async_write(stream, r, kUse);
      if (wec || !req.keep_alive()) break;
      continue;
    }
    if (req.method() != http::verb::get) {
      auto r = s->error(
          req, ApiStatus{405, "MethodNotAllowed", "the simulated API server is read-only"});
      auto [wec, wn] = co_await http::async_write(stream, r, kUse);
      if (wec || !req.keep_alive()) break;
      continue;
    }
    if (route.watch()) {
      if (route.kind != RouteKind::kCollection || !route.resource) {
        auto r = s->not_found(req);
        co_await http::async_write(stream, r, kUse);
        break;
      }
      co_await serve_watch(s, stream, req, route);
      break;
    }
    auto r = s->handle(req, route);
    as_table_if_asked(req, route, r);
    auto [wec, wn] = co_await http::async_write(stream, r, kUse);
    if (wec || !r.keep_alive()) break;
  }
  close_stream(stream);
}

net::awaitable<void> accept_loop(StatePtr s, tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kUse);
    if (ec) co_return;  // acceptor closed (stop/restart)
    auto on_done = [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);  // a bug in the simulator: fail loudly
    };
    if (!s->tls) {
      net::co_spawn(s->ioc, serve_connection(s, beast::tcp_stream(std::move(socket))), on_done);
    } else {
      auto handshake = [](StatePtr s, tcp::socket sock) -> net::awaitable<void> {
        beast::ssl_stream<beast::tcp_stream> stream(std::move(sock), *s->tls);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kUse);
        if (hec) co_return;
        beast::get_lowest_layer(stream).expires_never();
        co_await serve_connection(s, std::move(stream));
      };
      net::co_spawn(s->ioc, handshake(s, std::move(socket)), on_done);
    }
  }
}

}  // namespace

ApiServer::ApiServer(net::io_context& ioc, ServerOptions options)
    : state_(std::make_shared<State>(ioc, std::move(options))) {
  std::weak_ptr<State> weak = state_;
  state_->store.on_change = [weak](const Change& c) {
    if (auto s = weak.lock()) s->on_change(c);
  };
  if (state_->opts.tls) {
    state_->cert = make_self_signed_cert();
    state_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    state_->tls->use_certificate_chain(net::buffer(state_->cert.cert_pem));
    state_->tls->use_private_key(net::buffer(state_->cert.key_pem), ssl::context::pem);
  }
}

ApiServer::~ApiServer() {
  stop();
  state_->store.on_change = nullptr;
}

unsigned short ApiServer::listen(const std::string& address, unsigned short port) {
  auto& s = *state_;
  s.address = address;
  auto acc = std::make_unique<tcp::acceptor>(s.ioc);
  tcp::endpoint ep(net::ip::make_address(address), port);
  acc->open(ep.protocol());
  acc->set_option(net::socket_base::reuse_address(true));
  acc->bind(ep);
  acc->listen();
  s.port = acc->local_endpoint().port();
  s.acceptor = std::move(acc);
  net::co_spawn(s.ioc, accept_loop(state_, s.acceptor.get()), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  return s.port;
}

void ApiServer::stop() {
  auto& s = *state_;
  if (s.acceptor) {
    boost::system::error_code ec;
    s.acceptor->close(ec);
    // The accept loop still references the acceptor until it resumes; keep it alive with the state.
    s.retired.push_back(std::move(s.acceptor));
  }
  drop_connections();
}

Store& ApiServer::store() {
  return state_->store;
}

std::string ApiServer::url() const {
  return std::string(state_->tls ? "https" : "http") + "://" + state_->address + ":" +
         std::to_string(state_->port);
}

std::string ApiServer::ca_pem() const {
  return state_->cert.cert_pem;
}

std::string ApiServer::kubeconfig(const std::string& token) const {
  std::ostringstream y;
  y << "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: " << url()
    << "\n";
  if (state_->tls) y << "    certificate-authority-data: " << k8s::base64_encode(ca_pem()) << "\n";
  y << "users:\n- name: sim\n  user:\n";
  if (!token.empty())
    y << "    token: " << token << "\n";
  else
    y << "    {}\n";
  y << "contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: sim\n    namespace: "
       "default\n"
    << "current-context: sim\n";
  return y.str();
}

void ApiServer::set_logs(const std::string& ns, const std::string& pod,
                         const std::string& container, std::string current, std::string previous) {
  state_->logs[ns + "/" + pod + "/" + container] = {std::move(current), std::move(previous)};
}

void ApiServer::set_token(std::string token) {
  state_->opts.token = std::move(token);
}

void ApiServer::inject(Fault f) {
  state_->faults.push_back(std::move(f));
}

void ApiServer::drop_connections() {
  auto& s = *state_;
  for (auto& w : s.watches) {
    w->dropped = true;
    s.notify(w);
  }
  auto closers = s.closers;  // closing may unregister
  for (auto& [id, close] : closers) close();
}

void ApiServer::expire_watches() {
  auto& s = *state_;
  s.store.compact();
  for (auto& w : s.watches) {
    w->pending += status_line(
        ApiStatus{410, "Expired",
                  "too old resource version: " + std::to_string(s.store.oldest_rv() - 1) + " (" +
                      std::to_string(s.store.oldest_rv()) + ")"});
    w->expire = true;
    s.notify(w);
  }
}

void ApiServer::inject_malformed_line() {
  inject_raw_line("{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":tru");
}

void ApiServer::inject_raw_line(std::string line) {
  for (auto& w : state_->watches) {
    w->pending += line + "\n";
    state_->notify(w);
  }
}

void ApiServer::end_watches() {
  for (auto& w : state_->watches) {
    w->end_clean = true;
    state_->notify(w);
  }
}

void ApiServer::restart(std::chrono::milliseconds down_for) {
  stop();
  auto timer = std::make_shared<net::steady_timer>(state_->ioc, down_for);
  std::weak_ptr<State> weak = state_;
  timer->async_wait([this, weak, timer](boost::system::error_code ec) {
    if (ec || weak.expired()) return;
    listen(state_->address, state_->port);
  });
}

std::size_t ApiServer::open_watches() const {
  return state_->watches.size();
}
const ServerStats& ApiServer::stats() const {
  return state_->stats;
}

}  // namespace podmedic::sim
