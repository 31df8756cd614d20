// The simulated API server is an edge: its query parameters, request bodies (Leases and
// ConfigMaps written by other replicas), paths and headers come from a socket. Hostile requests
// get the apiserver's answer (a Status with reason BadRequest/Invalid naming the field, 413 for an
// oversized body, ...) and the server keeps serving: every case ends with a normal list.
#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "k8s/connection.h"
#include "sim/objects.h"
#include "sim/server.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::sim;
using json = nlohmann::json;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kUse = net::as_tuple(net::use_awaitable);

struct Reply {
  bool ok = false;  // a complete response was read
  int status = 0;
  std::string content_type;
  std::string body;
  json status_json;  // the body when it is JSON
};

const char* kLeases = "/apis/coordination.k8s.io/v1/namespaces/podmedic/leases";
const char* kConfigMaps = "/api/v1/namespaces/podmedic/configmaps";

struct Sim {
  net::io_context ioc;
  ApiServer server{ioc};
  unsigned short port = server.listen();

  Sim() {
    PodTemplate t;
    t.ns = "shop";
    t.name = "cart-0";
    server.store().upsert(Res::kPods, make_pod(t, 1'790'000'000));
  }

  // Sends `raw` bytes as they are and reads one response (headers only when `header_only`).
  Reply exchange(std::string raw, bool header_only = false) {
    Reply out;
    bool done = false;
    auto run = [&]() -> net::awaitable<void> {
      tcp::socket sock(ioc);
      auto [cec] = co_await sock.async_connect({net::ip::make_address("127.0.0.1"), port}, kUse);
      if (cec) {
        done = true;
        co_return;
      }
      // A write cut short (the server answered early and closed) still leaves a reply to read.
      [[maybe_unused]] auto [wec, wn] = co_await net::async_write(sock, net::buffer(raw), kUse);
      beast::flat_buffer buf;
      http::response_parser<http::string_body> p;
      p.body_limit(64 << 20);
      if (header_only) {
        auto [rec, rn] = co_await http::async_read_header(sock, buf, p, kUse);
        out.ok = !rec;
      } else {
        auto [rec, rn] = co_await http::async_read(sock, buf, p, kUse);
        out.ok = !rec;
      }
      if (out.ok) {
        out.status = p.get().result_int();
        out.content_type = std::string(p.get()[http::field::content_type]);
        out.body = p.get().body();
        out.status_json = json::parse(out.body, nullptr, false);
      }
      done = true;
    };
    net::co_spawn(ioc, run(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    REQUIRE(test::run_until(ioc, [&] { return done; }));
    return out;
  }

  Reply get(const std::string& target) {
    return exchange("GET " + target + " HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n");
  }
  Reply send(const char* method, const std::string& target, const std::string& body) {
    return exchange(std::string(method) + " " + target +
                    " HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\n"
                    "Connection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  // The server still answers a plain list with the pod it holds.
  void still_serving() {
    auto r = get("/api/v1/namespaces/shop/pods");
    REQUIRE(r.ok);
    CHECK(r.status == 200);
    CHECK(r.body.find("\"cart-0\"") != std::string::npos);
  }
};

// A Status the way the apiserver writes one: kind Status, Failure, the reason and code.
void check_status(const Reply& r, int code, const char* reason, const std::string& mentions = "") {
  REQUIRE(r.ok);
  CHECK(r.status == code);
  REQUIRE(r.status_json.is_object());
  CHECK(r.status_json["kind"] == "Status");
  CHECK(r.status_json["status"] == "Failure");
  CHECK(r.status_json["reason"] == reason);
  CHECK(r.status_json["code"] == code);
  if (!mentions.empty()) {
    INFO(r.body);
    CHECK(r.status_json["message"].get<std::string>().find(mentions) != std::string::npos);
  }
}

std::string lease(const std::string& name, const std::string& spec) {
  return R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":")" + name +
         R"("},"spec":)" + spec + "}";
}

}  // namespace

TEST_CASE("sim server: list query parameters that do not parse are 400s naming the parameter") {
  Sim sim;
  SECTION("limit beyond int64") {
    check_status(sim.get("/api/v1/pods?limit=99999999999999999999"), 400, "BadRequest",
                 "limit: strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
  }
  SECTION("limit not a number") {
    check_status(sim.get("/api/v1/pods?limit=abc"), 400, "BadRequest",
                 "limit: strconv.ParseInt: parsing \"abc\": invalid syntax");
  }
  SECTION("resourceVersion not a number, negative, or beyond uint64") {
    for (const char* rv : {"abc", "-5", "99999999999999999999", "12abc"}) {
      check_status(sim.get(std::string("/api/v1/pods?resourceVersion=") + rv), 400, "BadRequest",
                   std::string("invalid resource version: ") + rv);
    }
  }
  SECTION("resourceVersion with invalid UTF-8 (percent-encoded)") {
    auto r = sim.get("/api/v1/pods?resourceVersion=%FF%FE");
    check_status(r, 400, "BadRequest", "invalid resource version: ");
  }
  SECTION("selectors with invalid UTF-8") {
    check_status(sim.get("/api/v1/pods?fieldSelector=%FF%3Dx"), 400, "BadRequest",
                 "field label not supported");
    auto r = sim.get("/api/v1/pods?labelSelector=a%20in%20%FF");
    check_status(r, 400, "BadRequest");
  }
  SECTION("continue tokens that are garbage or base64 of wrong-typed JSON") {
    for (std::string tok :
         {std::string("!!!not-base64!!!"), k8s::base64_encode("not json"),
          k8s::base64_encode(R"({"rv":"1001","start":"shop/cart-0"})"),
          k8s::base64_encode(R"({"rv":1001,"start":5})"),
          k8s::base64_encode(R"({"rv":-1,"start":""})"),
          k8s::base64_encode(R"({"rv":1e400,"start":""})"), k8s::base64_encode("[1,2]"),
          k8s::base64_encode("{\"rv\":1001,\"start\":\"\xff\"}")}) {
      INFO(tok);
      check_status(sim.get("/api/v1/pods?limit=1&continue=" + tok), 400, "BadRequest",
                   "continue key is not valid");
    }
  }
  SECTION("a bad percent escape drops the pair, as Go's ParseQuery does") {
    auto r = sim.get("/api/v1/namespaces/shop/pods?limit=%zz&resourceVersion=%4");
    REQUIRE(r.ok);
    CHECK(r.status == 200);
    CHECK(r.body.find("\"cart-0\"") != std::string::npos);
  }
  SECTION("empty integer parameters are unset") {
    auto r = sim.get("/api/v1/namespaces/shop/pods?limit=");
    REQUIRE(r.ok);
    CHECK(r.status == 200);
  }
  sim.still_serving();
}

TEST_CASE("sim server: watch timeoutSeconds out of range") {
  Sim sim;
  SECTION("beyond int64: 400") {
    check_status(sim.get("/api/v1/pods?watch=1&timeoutSeconds=99999999999999999999"), 400,
                 "BadRequest", "timeoutSeconds");
    check_status(sim.get("/api/v1/pods?watch=1&timeoutSeconds=soon"), 400, "BadRequest",
                 "timeoutSeconds");
  }
  SECTION("a huge int64 is clamped and the watch is served") {
    auto r = sim.exchange(
        "GET /api/v1/pods?watch=1&timeoutSeconds=9223372036854775807 HTTP/1.1\r\nHost: "
        "sim\r\n\r\n",
        true);
    REQUIRE(r.ok);
    CHECK(r.status == 200);
    CHECK(sim.server.open_watches() == 1);
  }
  SECTION("a negative timeout ends the watch at once, cleanly") {
    auto r = sim.get("/api/v1/pods?watch=1&timeoutSeconds=-5");
    REQUIRE(r.ok);
    CHECK(r.status == 200);
  }
  sim.still_serving();
}

TEST_CASE("sim server: pod log parameters are validated as PodLogOptions") {
  Sim sim;
  sim.server.set_logs("shop", "cart-0", "app", "a\nb\nc\n", "");
  const std::string logs = "/api/v1/namespaces/shop/pods/cart-0/log";
  check_status(sim.get(logs + "?tailLines=99999999999999999999"), 400, "BadRequest", "tailLines");
  check_status(sim.get(logs + "?tailLines=x"), 400, "BadRequest", "tailLines");
  check_status(sim.get(logs + "?tailLines=-1"), 422, "Invalid", "tailLines: Invalid value: -1");
  check_status(sim.get(logs + "?limitBytes=-1"), 422, "Invalid", "limitBytes: Invalid value: -1");
  check_status(sim.get(logs + "?limitBytes=1e3"), 400, "BadRequest", "limitBytes");
  // A long bad value is quoted cut to 64 bytes at a character boundary: a byte cut would end
  // inside the 32nd "é" and the message would carry a U+FFFD.
  std::string wide = "x", wide_query = "x";
  for (int i = 0; i < 40; ++i) {
    wide += "\xC3\xA9";
    wide_query += "%C3%A9";
  }
  auto cut = sim.get(logs + "?tailLines=" + wide_query);
  check_status(cut, 400, "BadRequest", "parsing \"" + wide.substr(0, 63) + "\": invalid syntax");
  CHECK(cut.body.find("\xEF\xBF\xBD") == std::string::npos);
  auto r = sim.get(logs + "?tailLines=2&limitBytes=3");
  REQUIRE(r.ok);
  CHECK(r.status == 200);
  CHECK(r.body == "b\nc");
  sim.still_serving();
}

TEST_CASE("sim server: Lease and ConfigMap writes with invalid bodies are 400s naming the field") {
  Sim sim;
  SECTION("not JSON, or not an object") {
    for (const char* body : {"{", "", "null", "[1]", "\"lease\"", "{\"metadata\":{\"name\":tru"}) {
      INFO(body);
      check_status(sim.send("POST", kLeases, body), 400, "BadRequest",
                   "the body of the request was in an unknown format");
    }
  }
  SECTION("wrong types in metadata") {
    check_status(sim.send("POST", kLeases, R"({"metadata":5})"), 400, "BadRequest",
                 "Lease in version \"v1\" cannot be handled as a Lease: metadata: expected an "
                 "object, got an integer");
    check_status(sim.send("POST", kConfigMaps, R"({"metadata":{"name":"s","resourceVersion":7}})"),
                 400, "BadRequest", "metadata.resourceVersion: expected a string, got an integer");
    check_status(sim.send("POST", kConfigMaps, R"({"metadata":{"name":5}})"), 400, "BadRequest",
                 "metadata.name");
    check_status(sim.send("POST", kLeases, R"({"metadata":{"name":"l","labels":{"a":1}}})"), 400,
                 "BadRequest", "metadata.labels");
    check_status(sim.send("POST", kLeases, R"({"metadata":[],"spec":{}})"), 400, "BadRequest",
                 "metadata: expected an object, got an array");
  }
  SECTION("wrong types in ConfigMap data") {
    check_status(sim.send("POST", kConfigMaps, R"({"metadata":{"name":"s"},"data":[]})"), 400,
                 "BadRequest",
                 "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: data");
    check_status(sim.send("POST", kConfigMaps, R"({"metadata":{"name":"s"},"data":{"k":5}})"), 400,
                 "BadRequest", "data");
  }
  SECTION("wrong types in Lease spec") {
    check_status(sim.send("POST", kLeases, lease("l", "5")), 400, "BadRequest", "spec");
    check_status(sim.send("POST", kLeases, lease("l", R"({"leaseDurationSeconds":"15"})")), 400,
                 "BadRequest", "spec.leaseDurationSeconds");
    check_status(sim.send("POST", kLeases, lease("l", R"({"leaseDurationSeconds":4294967311})")),
                 400, "BadRequest", "spec.leaseDurationSeconds");
    check_status(sim.send("POST", kLeases, lease("l", R"({"holderIdentity":{"x":1}})")), 400,
                 "BadRequest", "spec.holderIdentity");
  }
  SECTION("PUT with wrong types, onto an existing Lease") {
    auto created = sim.send("POST", kLeases, lease("l", R"({"holderIdentity":"a"})"));
    REQUIRE(created.status == 201);
    std::string url = std::string(kLeases) + "/l";
    check_status(sim.send("PUT", url, R"({"metadata":{"name":"l","resourceVersion":7}})"), 400,
                 "BadRequest", "metadata.resourceVersion");
    check_status(sim.send("PUT", url, R"({"metadata":5})"), 400, "BadRequest", "metadata");
    check_status(sim.send("PUT", url, "{"), 400, "BadRequest");
    // The stored Lease is untouched.
    auto got = sim.get(url);
    REQUIRE(got.status == 200);
    CHECK(got.status_json["spec"]["holderIdentity"] == "a");
  }
  SECTION("a missing name on create is 422 Invalid") {
    check_status(sim.send("POST", kLeases, R"({"metadata":{},"spec":{}})"), 422, "Invalid",
                 "metadata.name: Required value");
  }
  SECTION("nulls read as absent, as Go's decoder reads them") {
    auto r = sim.send("POST", kLeases,
                      R"({"metadata":{"name":"n","labels":null},"spec":{"holderIdentity":null}})");
    CHECK(r.status == 201);
  }
  sim.still_serving();
}

TEST_CASE(
    "sim server: invalid UTF-8 in a written body is stored as U+FFFD, as the apiserver does") {
  Sim sim;
  std::string body = "{\"metadata\":{\"name\":\"u\"},\"data\":{\"k\":\"a\xff\xc3\x28z\"}}";
  auto r = sim.send("POST", kConfigMaps, body);
  REQUIRE(r.ok);
  CHECK(r.status == 201);
  auto got = sim.get(std::string(kConfigMaps) + "/u");
  REQUIRE(got.ok);
  REQUIRE(got.status_json.is_object());  // valid JSON (and so valid UTF-8) again
  CHECK(got.status_json["data"]["k"] == "a\xEF\xBF\xBD\xEF\xBF\xBD(z");
  // Invalid UTF-8 in a name that ends up in an error message.
  auto conflict =
      sim.send("PUT", std::string(kConfigMaps) + "/u", "{\"metadata\":{\"name\":\"\xfe\"}}");
  check_status(conflict, 400, "BadRequest", "does not match the name on the URL");
  sim.still_serving();
}

TEST_CASE("sim server: oversized and malformed requests are answered, then the connection closes") {
  Sim sim;
  SECTION("a body over the limit: 413 RequestEntityTooLarge") {
    std::string huge =
        "{\"metadata\":{\"name\":\"big\"},\"data\":{\"k\":\"" + std::string(3 << 20, 'x') + "\"}}";
    check_status(sim.send("POST", kConfigMaps, huge), 413, "RequestEntityTooLarge",
                 "Request entity too large");
    CHECK_FALSE(sim.server.store().get(Res::kConfigMaps, "podmedic", "big"));
  }
  SECTION("headers over the limit: 431") {
    auto r = sim.exchange("GET /api/v1/pods HTTP/1.1\r\nHost: sim\r\nX-Junk: " +
                          std::string(64 << 10, 'j') + "\r\n\r\n");
    REQUIRE(r.ok);
    CHECK(r.status == 431);
  }
  SECTION("garbage instead of HTTP: 400") {
    auto r = sim.exchange("\x01\x02 not http at all\r\n\r\n");
    REQUIRE(r.ok);
    CHECK(r.status == 400);
  }
  SECTION("an absurd Content-Length: 413") {
    auto r = sim.exchange(
        "POST /api/v1/namespaces/podmedic/configmaps HTTP/1.1\r\nHost: sim\r\nContent-Length: "
        "99999999999999999\r\n\r\n{}");
    REQUIRE(r.ok);
    CHECK(r.status == 413);
  }
  sim.still_serving();
}

TEST_CASE("sim server: hostile paths get the answers of the one route table") {
  Sim sim;
  // Empty segments are skipped: the usual list.
  auto collapsed = sim.get("//api//v1//namespaces//shop//pods//");
  REQUIRE(collapsed.ok);
  CHECK(collapsed.status == 200);
  CHECK(collapsed.body.find("\"cart-0\"") != std::string::npos);
  // Dot segments and encoded slashes are names: nothing has them.
  check_status(sim.get("/api/v1/namespaces/shop/pods/.."), 404, "NotFound",
               "pods \"..\" not found");
  check_status(sim.get("/api/v1/namespaces/shop/pods/cart-0%2F..%2Fx"), 404, "NotFound",
               "pods \"cart-0%2F..%2Fx\" not found");
  check_status(sim.get("/api/v1/namespaces/shop%2Fpods/pods/cart-0"), 404, "NotFound");
  // A path deeper than any route, and a long one within the header limit.
  check_status(sim.get("/api/v1/namespaces/shop/pods/cart-0/log/x"), 404, "NotFound",
               "the server could not find the requested resource");
  std::string deep = "/api/v1/namespaces/shop/pods";
  for (int i = 0; i < 2000; ++i) deep += "/x";
  check_status(sim.get(deep), 404, "NotFound");
  check_status(sim.get(deep + "?watch=1"), 404, "NotFound");
  // Writes: a deep Lease path is the wrong method, a cluster-wide one is not writable.
  check_status(sim.send("POST", std::string(kLeases) + "/l/x/y", lease("l", "{}")), 405,
               "MethodNotAllowed", "use POST on the collection or PUT on an object");
  check_status(sim.send("POST", "/apis/coordination.k8s.io/v1/leases", lease("l", "{}")), 405,
               "MethodNotAllowed", "writes only leases and configmaps");
  // A watch only of a collection.
  check_status(sim.get("/api/v1/namespaces/shop/pods/cart-0?watch=1"), 404, "NotFound");
  check_status(sim.get("/api?watch=true"), 404, "NotFound");
  sim.still_serving();
}
