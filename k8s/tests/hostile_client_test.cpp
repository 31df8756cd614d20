// KubeClient and the typed calls against a hostile API server: absurd Retry-After headers,
// bodies that are garbage, huge or cut by a reset, a server that never answers, Status bodies
// with wrong types. Every answer is a value, every unusable answer is counted once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>

#include "core/peer_errors.h"
#include "k8s/api.h"
#include "k8s/client.h"
#include "k8s/tests/raw_server.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::k8s;
using podmedic::test::RawReply;
using podmedic::test::RawServer;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  net::io_context ioc;
  prometheus::Registry registry;
  PeerErrors errors{registry};
  std::unique_ptr<RawServer> server;
  std::unique_ptr<KubeClient> client;
  Interner interner;
  Decoder decoder{interner};

  explicit Fixture(RawServer::Handler h) {
    server = std::make_unique<RawServer>(ioc, std::move(h));
    ClusterConnection c;
    REQUIRE(parse_server_url(server->url(), c).ok());
    client = std::make_unique<KubeClient>(ioc.get_executor(), c, &errors);
  }

  template <class T>
  T await(net::awaitable<T> task) {
    std::optional<T> out;
    net::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      out = std::move(v);
    });
    REQUIRE(test::run_until(
        ioc, [&] { return out.has_value(); }, 10s));
    return std::move(*out);
  }
  Result<HttpResponse> get(std::size_t max_body = 1 << 20, std::chrono::milliseconds t = 5s) {
    return await(client->get("/api/v1/pods", max_body, t));
  }
  double count(PeerFault f) const { return errors.value(Peer::kApiServer, f); }
};

}  // namespace

TEST_CASE("an absurd Retry-After is ignored and counted, a sane one is used") {
  Fixture f([](const std::string&, std::size_t n) {
    if (n == 0) return RawReply::http(503, "{}", "Retry-After: 99999999999999999999\r\n");
    if (n == 1) return RawReply::http(503, "{}", "Retry-After: -5\r\n");
    if (n == 2) return RawReply::http(429, "{}", "Retry-After: soon\r\n");
    return RawReply::http(429, "{}", "Retry-After: 5\r\n");
  });
  for (int i = 0; i < 3; ++i) {
    auto r = f.get();
    REQUIRE(r.ok());
    CHECK(r->retry_after_seconds == -1);
  }
  CHECK(f.count(PeerFault::kBadHeader) == 3);
  CHECK(f.count(PeerFault::kStatus) == 2);  // the two 503s; 429 is flow control
  auto sane = f.get();
  REQUIRE(sane.ok());
  CHECK(sane->retry_after_seconds == 5);
  CHECK(f.count(PeerFault::kBadHeader) == 3);
}

TEST_CASE("a huge body, a reset mid-body, garbage instead of HTTP and silence are errors") {
  Fixture f([](const std::string&, std::size_t n) {
    switch (n) {
      case 0:
        return RawReply::http(200, std::string(2 << 20, 'x'));
      case 1: {
        RawReply r;
        r.writes = {"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{\"items\":["};
        r.end = RawReply::kReset;
        return r;
      }
      case 2: {
        RawReply r;
        r.writes = {"SSH-2.0-OpenSSH_9.0\r\n\r\n\xff\xfe garbage"};
        return r;
      }
      case 3: {
        RawReply r;
        r.end = RawReply::kHold;  // never answers
        return r;
      }
      default:
        return RawReply::http(200, R"({"ok":true})");
    }
  });
  auto huge = f.get(1 << 20);
  REQUIRE_FALSE(huge.ok());
  CHECK(f.count(PeerFault::kOversized) == 1);
  auto reset = f.get();
  REQUIRE_FALSE(reset.ok());
  auto garbage = f.get();
  REQUIRE_FALSE(garbage.ok());
  CHECK(f.count(PeerFault::kTransport) == 2);
  auto silent = f.get(1 << 20, 200ms);
  REQUIRE_FALSE(silent.ok());
  CHECK(silent.error().message.find("timeout") != std::string::npos);
  CHECK(f.count(PeerFault::kTimeout) == 1);
  // And the client still works.
  auto fine = f.get();
  REQUIRE(fine.ok());
  CHECK(fine->body == R"({"ok":true})");
}

TEST_CASE("pod events: a garbage 200, wrong-typed Status bodies and a huge list are errors") {
  Fixture f([](const std::string&, std::size_t n) {
    switch (n) {
      case 0:
        return RawReply::http(200, "<html>not json</html>");
      case 1:
        return RawReply::http(403, R"({"kind":null,"code":403,"message":"forbidden"})");
      case 2:
        return RawReply::http(
            404,
            R"({"kind":"Status","code":"404","reason":7,"details":{"retryAfterSeconds":"x"}})");
      case 3:
        return RawReply::http(
            200,
            R"({"metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":5},"count":4294967303,"type":"Warning"}]})");
      default:
        return RawReply::http(200, R"({"metadata":{"resourceVersion":"1"},"items":[]})");
    }
  });
  auto fetch = [&] { return f.await(fetch_pod_events(*f.client, f.decoder, "ns", "pod", "", 10)); };
  auto garbage = fetch();
  REQUIRE_FALSE(garbage.ok());
  CHECK(f.count(PeerFault::kMalformed) == 1);
  auto forbidden = fetch();
  REQUIRE_FALSE(forbidden.ok());
  CHECK(forbidden.error().message.find("403") != std::string::npos);
  CHECK(f.count(PeerFault::kStatus) == 1);
  auto wrong = fetch();
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("404") != std::string::npos);
  CHECK(f.count(PeerFault::kWrongType) == 1);
  CHECK(f.count(PeerFault::kStatus) == 2);
  auto odd = fetch();
  REQUIRE(odd.ok());  // a wrong-typed name reads as empty; the count saturates
  REQUIRE(odd->size() == 1);
  CHECK((*odd)[0].count == std::numeric_limits<std::int32_t>::max());
  auto empty = fetch();
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("pod logs: a Status with wrong types is an error value naming the HTTP code") {
  Fixture f([](const std::string&, std::size_t) {
    return RawReply::http(400, R"({"kind":"Status","code":{"x":1},"message":["a"]})");
  });
  auto r = f.await(fetch_logs(*f.client, "ns", "pod", LogOptions{}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("HTTP 400") != std::string::npos);
  CHECK(f.count(PeerFault::kWrongType) == 1);
}

TEST_CASE("a streamed body is read in large pieces, not ~512 bytes at a time", "[stream]") {
  // 512 KiB written at once. Beast sizes each read by its buffer's free capacity: with an empty
  // buffer that is ~520 bytes (about 1,000 sink calls here); with the reserved 64 KiB it is up to
  // 64 KiB (at least 8 calls).
  std::string line(1023, 'a');
  line += '\n';
  std::string body;
  for (int i = 0; i < 512; ++i) body += line;
  Fixture f(
      [&](const std::string&, std::size_t) { return RawReply::stream({body}, RawReply::kClose); });
  std::size_t calls = 0, bytes = 0, largest = 0;
  BodySink sink = [&](std::string_view d) {
    ++calls;
    bytes += d.size();
    largest = std::max(largest, d.size());
    return true;
  };
  auto r = f.await(f.client->stream("/api/v1/pods?watch=1", sink, 10s));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(bytes == body.size());
  CHECK(largest <= 64 * 1024);
  CHECK(largest > 4 * 1024);
  CHECK(calls < 64);
}
