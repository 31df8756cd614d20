// POST /mcp without a socket: the JSON-RPC handling (hostile messages, batches, versions), the
// Origin rule, the tools' arguments and the snapshot tools, and the routing in make_api.
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "core/http.h"
#include "core/task_group.h"
#include "server/api.h"
#include "server/mcp.h"

using namespace podmedic;
using namespace podmedic::server;
using json = nlohmann::json;

namespace {

Response run(const Handler& h, Request r) {
  boost::asio::io_context ioc;
  std::optional<Response> out;
  boost::asio::co_spawn(ioc, h(std::move(r)), [&](std::exception_ptr e, Response v) {
    if (e) std::rethrow_exception(e);
    out = std::move(v);
  });
  ioc.run();
  REQUIRE(out);
  return *out;
}

// Two open incidents (shop, kube-system) and a resolved one, as the snapshot has them.
const char* const kSnapshot = R"([
 {"id":"aaa1","state":"open","namespace":"shop","reason":"OOMKilled","container":"app",
  "workload":{"kind":"Deployment","name":"cart"},"pods":["cart-1","cart-2"],"restarts":4,
  "exitCode":137,"firstSeen":"2026-12-01T10:00:00Z","lastSeen":"2026-12-01T10:05:00Z",
  "message":"","facts":"[shop] OOMKilled Deployment/cart","evidence":"key: [REDACTED]",
  "diagnosis":{"text":"heap too small","model":"mistral","source":"llm"},"severity":"critical",
  "runbookUrl":"https://runbooks.example/oom?ns=shop",
  "changes":[{"field":"resources","container":"app","from":"256Mi","to":"128Mi"}],
  "podState":{"cart-1":{"restarts":4,"healthySince":0}},"lastNotified":1,"pendingAlert":true},
 {"id":"bbb2","state":"open","namespace":"kube-system","reason":"CrashLoopBackOff",
  "container":"dns","workload":{"kind":"Deployment","name":"coredns"},"pods":["coredns-1"]},
 {"id":"ccc3","state":"resolved","namespace":"shop","reason":"ImagePullBackOff",
  "container":"web","workload":{"kind":"Deployment","name":"front"},"pods":[],
  "resolvedAt":"2026-12-01T09:00:00Z"}
])";

struct Calls {
  std::vector<std::string> diagnose, ask;
  mcp::Deadline deadline{};
};

mcp::McpSources sources(Calls& calls) {
  mcp::McpSources s;
  s.incidents = [] { return std::make_shared<const std::string>(kSnapshot); };
  s.namespace_allowed = [](const std::string& ns) { return ns != "kube-system"; };
  s.diagnose = [&calls](std::string q, std::string ns, std::string pod,
                        mcp::Deadline d) -> boost::asio::awaitable<mcp::ToolResult> {
    calls.diagnose.push_back(ns + "/" + pod + "?" + q);
    calls.deadline = d;
    co_return mcp::ToolResult{{{"answer", "heap too small"}}, false};
  };
  s.ask = [&calls](std::string q, mcp::Deadline) -> boost::asio::awaitable<mcp::ToolResult> {
    calls.ask.push_back(q);
    co_return mcp::ToolResult{{{"answer", "a pod is…"}}, false};
  };
  s.external_url = "https://podmedic.example.com/ui";
  s.version = "1.2.3";
  return s;
}

struct Mcp {
  Calls calls;
  Handler h = mcp::make_handler(sources(calls));
  Response post(const std::string& body, const std::string& version = "2025-06-18",
                const std::string& origin = "") {
    Request r;
    r.method = "POST";
    r.target = "/mcp";
    r.content_type = "application/json";
    r.body = body;
    r.origin = origin;
    r.mcp_protocol_version = version;
    return run(h, std::move(r));
  }
  json rpc(const std::string& body, const std::string& version = "2025-06-18") {
    auto r = post(body, version);
    CHECK(r.content_type == "application/json");
    auto j = json::parse(r.body, nullptr, false);
    REQUIRE(!j.is_discarded());
    return j;
  }
  json call(const json& params, const std::string& version = "2025-06-18") {
    return rpc(
        json{{"jsonrpc", "2.0"}, {"id", 9}, {"method", "tools/call"}, {"params", params}}.dump(),
        version);
  }
};

int error_code(const json& reply) {
  return reply.contains("error") ? reply["error"]["code"].get<int>() : 0;
}

}  // namespace

TEST_CASE("mcp: initialize negotiates the protocol version") {
  Mcp m;
  auto init = [&](const json& params) {
    return m.rpc(
        json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", params}}.dump(),
        "");
  };
  for (std::string v : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    auto r = init({{"protocolVersion", v}, {"capabilities", json::object()}});
    CHECK(r["id"] == 1);
    CHECK(r["result"]["protocolVersion"] == v);
  }
  auto future = init({{"protocolVersion", "2099-01-01"}});
  CHECK(future["result"]["protocolVersion"] == "2025-11-25");
  CHECK(future["result"]["capabilities"] == json{{"tools", {{"listChanged", false}}}});
  CHECK(future["result"]["serverInfo"]["name"] == "podmedic");
  CHECK(future["result"]["serverInfo"]["version"] == "1.2.3");
  // An initialize is never refused for the header: it is what negotiates the version.
  auto with_header = m.post(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})",
      "1999-01-01");
  CHECK(with_header.status == 200);
  for (const auto& bad :
       {json{{"protocolVersion", 2025}}, json::object(), json{{"protocolVersion", nullptr}}}) {
    auto r = init(bad);
    CHECK(error_code(r) == -32602);
    CHECK(r["id"] == 1);
  }
}

TEST_CASE("mcp: notifications and responses are accepted with 202 and no body") {
  Mcp m;
  for (const char* body : {R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
                           R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{}})",
                           R"({"jsonrpc":"2.0","method":"anything/else"})",
                           R"({"jsonrpc":"2.0","id":"s1","result":{}})",
                           R"({"jsonrpc":"2.0","id":4,"error":{"code":-1,"message":"no"}})"}) {
    auto r = m.post(body);
    CHECK(r.status == 202);
    CHECK(r.body.empty());
    CHECK(r.content_type.empty());
  }
}

TEST_CASE("mcp: the MCP-Protocol-Version header: unsupported is 400, absent is 2025-03-26") {
  Mcp m;
  const char* ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  CHECK(m.post(ping, "2025-06-18").status == 200);
  CHECK(m.post(ping, "").status == 200);
  for (const char* v : {"1999-01-01", "2025-06-18 ", "latest", "\xff\xfe"}) {
    auto r = m.post(ping, v);
    CHECK(r.status == 400);
    CHECK(r.body.find("MCP-Protocol-Version") != std::string::npos);
  }
  // structuredContent exists from 2025-06-18 on; without the header (2025-03-26) only the text.
  json args = {{"name", "ask"}, {"arguments", {{"question", "q"}}}};
  CHECK(m.call(args, "2025-06-18")["result"].contains("structuredContent"));
  CHECK_FALSE(m.call(args, "")["result"].contains("structuredContent"));
}

TEST_CASE("mcp: hostile JSON-RPC messages get the right error and id") {
  Mcp m;
  struct Case {
    std::string body;
    int status;
    int code;
    json id;
  };
  const std::vector<Case> cases = {
      {"", 400, -32700, nullptr},
      {"{", 400, -32700, nullptr},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xffng\"}", 400, -32700, nullptr},
      {"null", 400, -32600, nullptr},
      {"42", 400, -32600, nullptr},
      {"\"ping\"", 400, -32600, nullptr},
      {R"({"id":1,"method":"ping"})", 400, -32600, 1},
      {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", 400, -32600, 1},
      {R"({"jsonrpc":2.0,"id":1,"method":"ping"})", 400, -32600, 1},
      {R"({"jsonrpc":null,"id":1,"method":"ping"})", 400, -32600, 1},
      {R"({"jsonrpc":"2.0","id":1})", 400, -32600, 1},
      {R"({"jsonrpc":"2.0","id":1,"method":42})", 400, -32600, 1},
      {R"({"jsonrpc":"2.0","id":1,"method":null})", 400, -32600, 1},
      {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", 400, -32600, nullptr},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", 400, -32600, nullptr},
      {R"({"jsonrpc":"2.0","id":true,"method":"ping"})", 400, -32600, nullptr},
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", 400, -32600, nullptr},
      {R"({"jsonrpc":"2.0","id":[1],"method":"ping"})", 400, -32600, nullptr},
      // Beyond 64 bits the number is a double: it could not be echoed exactly.
      {R"({"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"})", 400, -32600,
       nullptr},
      {R"({"jsonrpc":"2.0","id":1e400,"method":"ping"})", 400, -32700, nullptr},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":"x"})", 200, -32602, 1},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})", 200, -32602, 1},
      {R"({"jsonrpc":"2.0","id":"q","method":"resources/list"})", 200, -32601, "q"},
      {R"({"jsonrpc":"2.0","id":7,"method":""})", 200, -32601, 7},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = m.post(c.body);
    CHECK(r.status == c.status);
    auto j = json::parse(r.body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["jsonrpc"] == "2.0");
    CHECK(error_code(j) == c.code);
    CHECK(j["id"] == c.id);
  }
  // Ids round-trip exactly, the largest integers included.
  for (const char* id :
       {"18446744073709551615", "-9223372036854775808", "0", "\"\"", "\"\\u00e9\\ud83d\\ude00\""}) {
    auto r = m.rpc(std::string(R"({"jsonrpc":"2.0","method":"ping","id":)") + id + "}");
    CHECK(r["id"] == json::parse(id));
    CHECK(r["result"] == json::object());
  }
  // Deep nesting and a large body are answered, not crashed on.
  std::string deep = std::string(20000, '[') + std::string(20000, ']');
  auto nested = m.post(deep, "");  // a batch of one message that is not an object
  CHECK(nested.status == 200);
  CHECK(error_code(json::parse(nested.body)[0]) == -32600);
  std::string big = R"({"jsonrpc":"2.0","id":1,"method":")" + std::string(60000, 'x') + "\"}";
  auto r = m.rpc(big);
  CHECK(error_code(r) == -32601);
  CHECK(r["error"]["message"].get<std::string>().size() < 100);
}

TEST_CASE("mcp: batches only under 2025-03-26, bounded, initialize never inside") {
  Mcp m;
  std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"},)"
      R"({"jsonrpc":"2.0","id":2,"method":"nope"},42,)"
      R"({"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-03-26"}}])";
  for (std::string v : {"", "2025-03-26"}) {
    auto r = m.post(batch, v);
    CHECK(r.status == 200);
    auto j = json::parse(r.body);
    REQUIRE(j.size() == 4);  // the notification has no reply
    CHECK(j[0]["result"] == json::object());
    CHECK(error_code(j[1]) == -32601);
    CHECK(j[1]["id"] == 2);
    CHECK(error_code(j[2]) == -32600);
    CHECK(error_code(j[3]) == -32600);
    CHECK(j[3]["id"] == 3);
  }
  for (std::string v : {"2025-06-18", "2025-11-25", "2024-11-05"}) {
    auto r = m.post(batch, v);
    CHECK(r.status == 400);
    CHECK(error_code(json::parse(r.body)) == -32600);
  }
  CHECK(m.post("[]", "").status == 400);
  std::string many = "[";
  for (std::size_t i = 0; i <= mcp::kMaxBatch; ++i)
    many += (i ? "," : "") + std::string(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  many += "]";
  CHECK(m.post(many, "").status == 400);
  auto notes =
      m.post(R"([{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"result":{}}])", "");
  CHECK(notes.status == 202);
  CHECK(notes.body.empty());
}

TEST_CASE("mcp: tools/list gives every tool a closed inputSchema") {
  Mcp m;
  auto r = m.rpc(R"({"jsonrpc":"2.0","id":"l","method":"tools/list","params":{"cursor":"x"}})");
  const auto& tools = r["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& t : tools) {
    names.push_back(t["name"]);
    CHECK(t["inputSchema"]["type"] == "object");
    CHECK(t["inputSchema"]["additionalProperties"] == false);
    CHECK(t["annotations"]["readOnlyHint"] == true);
    CHECK(!t["description"].get<std::string>().empty());
  }
  CHECK(names == std::vector<std::string>{"list_incidents", "get_incident", "diagnose", "ask"});
  CHECK(tools[0]["inputSchema"]["properties"]["state"]["enum"] == json{"open", "resolved", "all"});
  CHECK(tools[2]["inputSchema"]["required"] == json{"namespace"});
}

TEST_CASE("mcp: tools/call arguments are checked against the schema") {
  Mcp m;
  struct Case {
    json params;
    std::string message;  // part of the error
  };
  const std::vector<Case> cases = {
      {json::object(), "\"name\""},
      {{{"name", 42}}, "\"name\""},
      {{{"name", "delete_pod"}}, "unknown tool"},
      {{{"name", "ask"}, {"arguments", "q"}}, "\"arguments\""},
      {{{"name", "ask"}, {"arguments", json::array()}}, "\"arguments\""},
      {{{"name", "ask"}}, "\"question\" is required"},
      {{{"name", "ask"}, {"arguments", {{"question", nullptr}}}}, "\"question\" is required"},
      {{{"name", "ask"}, {"arguments", {{"question", ""}}}}, "must not be empty"},
      {{{"name", "ask"}, {"arguments", {{"question", 42}}}}, "must be a string"},
      {{{"name", "ask"}, {"arguments", {{"question", std::string(5000, 'q')}}}}, "longer than"},
      {{{"name", "ask"}, {"arguments", {{"question", "q"}, {"model", "x"}}}}, "unknown argument"},
      {{{"name", "diagnose"}, {"arguments", {{"namespace", json::array()}}}}, "must be a string"},
      {{{"name", "list_incidents"}, {"arguments", {{"state", "closed"}}}}, "one of"},
      {{{"name", "get_incident"}, {"arguments", {{"id", true}}}}, "must be a string"},
  };
  for (const auto& c : cases) {
    INFO(c.params.dump());
    auto r = m.call(c.params, "2025-06-18");
    CHECK(error_code(r) == -32602);
    CHECK(r["id"] == 9);
    CHECK(r["error"]["message"].get<std::string>().find(c.message) != std::string::npos);
  }
  // 2025-11-25: argument errors are tool results the model can act on; protocol errors stay.
  auto r = m.call({{"name", "ask"}, {"arguments", {{"question", 42}}}}, "2025-11-25");
  CHECK(r["result"]["isError"] == true);
  CHECK(r["result"]["content"][0]["text"].get<std::string>().find("must be a string") !=
        std::string::npos);
  CHECK(error_code(m.call({{"name", "delete_pod"}}, "2025-11-25")) == -32602);
  CHECK(m.calls.ask.empty());
  CHECK(m.calls.diagnose.empty());
}

TEST_CASE("mcp: list_incidents and get_incident read the snapshot within the watch scope") {
  Mcp m;
  auto listed = [&](const json& args) {
    auto r = m.call({{"name", "list_incidents"}, {"arguments", args}});
    REQUIRE(r["result"]["isError"] == false);
    CHECK(r["result"]["content"][0]["type"] == "text");
    CHECK(json::parse(r["result"]["content"][0]["text"].get<std::string>()) ==
          r["result"]["structuredContent"]);
    std::vector<std::string> ids;
    for (const auto& i : r["result"]["structuredContent"]["incidents"]) ids.push_back(i["id"]);
    return ids;
  };
  // kube-system is outside the scope: never listed.
  CHECK(listed(json::object()) == std::vector<std::string>{"aaa1"});
  CHECK(listed({{"state", nullptr}}) == std::vector<std::string>{"aaa1"});
  CHECK(listed({{"state", "all"}}) == std::vector<std::string>{"aaa1", "ccc3"});
  CHECK(listed({{"state", "resolved"}, {"namespace", "shop"}}) == std::vector<std::string>{"ccc3"});
  CHECK(listed({{"namespace", "web"}}).empty());
  auto refused =
      m.call({{"name", "list_incidents"}, {"arguments", {{"namespace", "kube-system"}}}});
  CHECK(refused["result"]["isError"] == true);
  CHECK(refused["result"]["structuredContent"]["error"].get<std::string>().find(
            "outside podmedic's watch scope") != std::string::npos);
  auto first = m.call({{"name", "list_incidents"}})["result"]["structuredContent"]["incidents"][0];
  CHECK(first["facts"] == "[shop] OOMKilled Deployment/cart");
  CHECK(first["podCount"] == 2);
  CHECK(first["severity"] == "critical");
  CHECK_FALSE(first.contains("evidence"));

  auto got = m.call({{"name", "get_incident"}, {"arguments", {{"id", "aaa1"}}}})["result"];
  CHECK(got["isError"] == false);
  const auto& inc = got["structuredContent"];
  CHECK(inc["evidence"] == "key: [REDACTED]");
  CHECK(inc["diagnosis"]["text"] == "heap too small");
  CHECK(inc["pods"] == json{"cart-1", "cart-2"});
  CHECK(inc["facts"] == "[shop] OOMKilled Deployment/cart");
  CHECK(inc["severity"] == "critical");
  CHECK(inc["runbookUrl"] == "https://runbooks.example/oom?ns=shop");
  CHECK(inc["changes"][0]["to"] == "128Mi");
  for (const char* internal : {"podState", "lastNotified", "pendingAlert"})
    CHECK_FALSE(inc.contains(internal));
  CHECK(m.call({{"name", "get_incident"}, {"arguments", {{"id", "bbb2"}}}})["result"]["isError"] ==
        true);
  auto missing = m.call({{"name", "get_incident"}, {"arguments", {{"id", "zzz"}}}})["result"];
  CHECK(missing["isError"] == true);
  CHECK(missing["structuredContent"]["error"].get<std::string>().find("no incident") !=
        std::string::npos);
}

TEST_CASE("mcp: the snapshot tools survive an empty or damaged snapshot") {
  auto allowed = [](const std::string&) { return true; };
  CHECK(mcp::list_incidents("[]", "all", "", allowed).structured["incidents"].empty());
  for (const char* bad : {"", "{}", "[1,null,\"x\",{\"id\":5,\"namespace\":[]}]", "nul"}) {
    INFO(bad);
    auto l = mcp::list_incidents(bad, "all", "", allowed);
    auto g = mcp::get_incident(bad, "5", allowed);
    CHECK(g.is_error);
    if (!l.is_error) CHECK(l.structured["incidents"].empty());
  }
  std::string many = "[";
  for (std::size_t i = 0; i < mcp::kMaxListed + 5; ++i)
    many += (i ? "," : "") + std::string(R"({"id":"x","state":"open","namespace":"a"})");
  many += "]";
  auto l = mcp::list_incidents(many, "open", "", allowed);
  CHECK(l.structured["incidents"].size() == mcp::kMaxListed);
  CHECK(l.structured["total"] == mcp::kMaxListed + 5);
  CHECK(l.structured.contains("note"));
}

TEST_CASE("mcp: diagnose and ask reach their callbacks, outside the scope refused") {
  Mcp m;
  auto before = std::chrono::steady_clock::now();
  auto r = m.call({{"name", "diagnose"},
                   {"arguments", {{"namespace", "shop"}, {"pod", "cart-1"}, {"question", "why"}}}});
  CHECK(r["result"]["isError"] == false);
  CHECK(r["result"]["structuredContent"]["answer"] == "heap too small");
  CHECK(m.calls.diagnose == std::vector<std::string>{"shop/cart-1?why"});
  // The deadline is the tool budget from the request's arrival.
  CHECK(m.calls.deadline >= before + std::chrono::seconds(44));
  CHECK(m.calls.deadline <= std::chrono::steady_clock::now() + std::chrono::seconds(45));
  auto refused = m.call({{"name", "diagnose"}, {"arguments", {{"namespace", "kube-system"}}}});
  CHECK(refused["result"]["isError"] == true);
  CHECK(m.calls.diagnose.size() == 1);
  auto asked = m.call({{"name", "ask"}, {"arguments", {{"question", "what is a pod?"}}}});
  CHECK(asked["result"]["structuredContent"]["answer"] == "a pod is…");
  CHECK(m.calls.ask == std::vector<std::string>{"what is a pod?"});
  // No LLM configured: an isError result, not a protocol error.
  mcp::McpSources bare;
  auto h = mcp::make_handler(bare);
  Request req{"POST",
              "/mcp",
              "",
              R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":)"
              R"({"name":"ask","arguments":{"question":"q"}}})",
              "application/json",
              "",
              "2025-06-18"};
  auto j = json::parse(run(h, req).body);
  CHECK(j["result"]["isError"] == true);
}

TEST_CASE("mcp: Origin must be absent, loopback or server.externalUrl's host") {
  const std::string ext = "https://podmedic.example.com:8443/ui";
  for (const char* ok : {"http://localhost", "http://localhost:6274", "http://127.0.0.1:8080",
                         "http://127.1.2.3", "http://[::1]:3000", "https://PODMEDIC.example.com",
                         "https://podmedic.example.com:9999", "http://podmedic.example.com"}) {
    INFO(ok);
    CHECK(mcp::origin_allowed(ok, ext));
  }
  for (const char* bad :
       {"null", "", "https://evil.example", "http://localhost.evil.example",
        "http://podmedic.example.com.evil.example", "http://127.0.0.1.evil.example",
        "file://localhost", "localhost", "http://", "http://[::1", "http://evil@localhost"}) {
    INFO(bad);
    CHECK_FALSE(mcp::origin_allowed(bad, ext));
  }
  CHECK_FALSE(mcp::origin_allowed("https://podmedic.example.com", ""));
  Mcp m;
  const char* ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  CHECK(m.post(ping, "", "https://evil.example").status == 403);
  CHECK(m.post(ping, "", "null").status == 403);
  CHECK(m.post(ping, "", "http://localhost:6274").status == 200);
  CHECK(m.post(ping, "", "https://podmedic.example.com").status == 200);
}

TEST_CASE("mcp: routing through the API: token, methods and media type") {
  Calls calls;
  ApiSources s;
  s.mcp = mcp::make_handler(sources(calls));
  auto api = make_api(std::move(s), "t0ken");
  auto req = [&](std::string method, std::string auth, std::string ct) {
    Request r{std::move(method), "/mcp", std::move(auth),
              R"({"jsonrpc":"2.0","id":1,"method":"ping"})", std::move(ct)};
    return run(api, std::move(r));
  };
  CHECK(req("POST", "", "application/json").status == 401);
  CHECK(req("POST", "Bearer nope", "application/json").status == 401);
  CHECK(req("POST", "Bearer t0ken", "application/json").status == 200);
  CHECK(req("POST", "Bearer t0ken", "application/json; charset=utf-8").status == 200);
  CHECK(req("POST", "Bearer t0ken", "text/plain").status == 415);
  CHECK(req("POST", "Bearer t0ken", "").status == 415);
  for (const char* method : {"GET", "DELETE", "PUT"}) {
    auto r = req(method, "Bearer t0ken", "application/json");
    CHECK(r.status == 405);
    CHECK(r.headers == std::vector<std::pair<std::string, std::string>>{{"Allow", "POST"}});
  }
  // Without an MCP handler there is no such route.
  auto none = make_api(ApiSources{}, "");
  CHECK(run(none, Request{"POST", "/mcp", "", "{}", "application/json"}).status == 404);
}

TEST_CASE(
    "mcp over the socket: the headers reach the handler, 202 has no body, 413 beyond 64 KiB") {
  using namespace std::chrono_literals;
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  Calls calls;
  ApiSources s;
  s.mcp = mcp::make_handler(sources(calls));
  HttpServer server(ioc, {"127.0.0.1:0", 64 * 1024, 5s}, make_api(std::move(s), ""));
  auto port = server.start(tasks);
  REQUIRE(port.ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(port.value()) + "/mcp";
  http::PostResult note, evil, old, big;
  std::atomic<bool> done{false};
  std::thread client([&] {
    const std::vector<std::string> json_type = {"Content-Type: application/json"};
    note = http::request("POST", url, json_type,
                         R"({"jsonrpc":"2.0","method":"notifications/initialized"})", 5s);
    auto with = [&](std::string header) {
      auto h = json_type;
      h.push_back(std::move(header));
      return h;
    };
    evil = http::request("POST", url, with("Origin: https://evil.example"),
                         R"({"jsonrpc":"2.0","id":1,"method":"ping"})", 5s);
    old = http::request("POST", url, with("MCP-Protocol-Version: 2024-01-01"),
                        R"({"jsonrpc":"2.0","id":1,"method":"ping"})", 5s);
    big = http::request(
        "POST", url, json_type,
        R"({"jsonrpc":"2.0","id":1,"method":")" + std::string(70 * 1024, 'x') + "\"}", 5s);
    done = true;
  });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < deadline) ioc.run_for(10ms);
  client.join();
  CHECK(note.status == 202);
  CHECK(note.body.empty());
  CHECK(note.content_type.empty());
  CHECK(evil.status == 403);
  CHECK(old.status == 400);
  CHECK(big.status == 413);
  server.stop();
  tasks.stop();
}
