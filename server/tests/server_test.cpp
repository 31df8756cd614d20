#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "core/http.h"
#include "server/api.h"

using namespace podmedic;
using namespace podmedic::server;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {
// Runs the coroutine handler to completion on a private io_context.
struct Sync {
  Handler h;
  Response operator()(Request r) {
    boost::asio::io_context ioc;
    std::optional<Response> out;
    boost::asio::co_spawn(ioc, h(std::move(r)), [&](std::exception_ptr e, Response v) {
      if (e) std::rethrow_exception(e);
      out = std::move(v);
    });
    ioc.run();
    return *out;
  }
};

ApiSources sources(bool* ready) {
  auto reg = std::make_shared<prometheus::Registry>();
  auto& c = prometheus::BuildCounter()
                .Name("podmedic_watch_events_total")
                .Help("Watch events")
                .Register(*reg);
  c.Add({{"resource", "pods"}, {"type", "ADDED"}}).Increment(3);
  c.Add({{"resource", "pods"}, {"type", "weird \"quoted\"\nlabel"}}).Increment();
  auto& h = prometheus::BuildHistogram()
                .Name("podmedic_detection_latency_seconds")
                .Help("Latency")
                .Register(*reg);
  auto& hist = h.Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.01, 0.1});
  for (double v : {0.0005, 0.002, 0.05, 3.0}) hist.Observe(v);
  return {[ready] { return *ready; },
          [] {
            return std::make_shared<const std::string>(
                json::array({{{"id", "abc"}, {"reason", "OOMKilled"}}}).dump());
          },
          reg};
}

// A strict reader of the Prometheus text format (0.0.4): HELP/TYPE once per family and before
// its samples, families contiguous, cumulative buckets ending at +Inf == _count, final newline.
void check_exposition(const std::string& text) {
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  std::istringstream in(text);
  std::string line, current;
  std::set<std::string> seen_help, seen_type, finished;
  std::map<std::string, double> last_bucket, inf_bucket, count;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      auto& seen = line[2] == 'H' ? seen_help : seen_type;
      CHECK(seen.insert(name).second);  // once per family
      if (name != current) {
        CHECK(finished.count(name) == 0);  // families are contiguous
        if (!current.empty()) finished.insert(current);
        current = name;
      }
      continue;
    }
    REQUIRE(!line.empty());
    std::string name = line.substr(0, line.find_first_of("{ "));
    std::string base = name;
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      std::string s = suffix;
      if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0 &&
          seen_type.count(base.substr(0, base.size() - s.size()))) {
        base = base.substr(0, base.size() - s.size());
      }
    }
    CHECK(base == current);  // samples follow their TYPE line
    double value = std::stod(line.substr(line.rfind(' ') + 1));
    if (name.size() > 7 && name.compare(name.size() - 7, 7, "_bucket") == 0) {
      CHECK(value >= last_bucket[base]);  // cumulative
      last_bucket[base] = value;
      if (line.find("le=\"+Inf\"") != std::string::npos) inf_bucket[base] = value;
    }
    if (name == base + "_count") count[base] = value;
  }
  for (auto& [b, c] : count) CHECK(inf_bucket[b] == c);
}
}  // namespace

TEST_CASE("routes health readiness metrics incidents and errors") {
  bool ready = false;
  Sync api{make_api(sources(&ready), "")};
  CHECK(api({"GET", "/healthz", "", ""}).status == 200);
  CHECK(api({"GET", "/readyz", "", ""}).status == 503);
  ready = true;
  CHECK(api({"GET", "/readyz", "", ""}).status == 200);
  auto m = api({"GET", "/metrics", "", ""});
  CHECK(m.status == 200);
  CHECK(m.content_type == "text/plain; version=0.0.4; charset=utf-8");
  check_exposition(m.body);
  CHECK(m.body.find(R"(type="weird \"quoted\"\nlabel")") != std::string::npos);
  auto inc = api({"GET", "/api/incidents", "", ""});
  CHECK(json::parse(inc.body)["incidents"][0]["id"] == "abc");
  auto nf = api({"GET", "/nope", "", ""});
  CHECK(nf.status == 404);
  CHECK(json::parse(nf.body).contains("error"));
  CHECK(api({"POST", "/metrics", "", ""}).status == 405);
  CHECK(api({"POST", "/ask", "", R"({"question":"x"})"}).status == 503);  // no LLM configured
  CHECK(api({"POST", "/ask", "", "not json"}).status == 400);
  CHECK(api({"POST", "/ask", "", R"({"question":""})"}).status == 400);
  CHECK(api({"POST", "/diagnose", "", R"({"question":"why"})"}).status ==
        400);  // namespace missing
  CHECK(api({"GET", "/ask", "", ""}).status == 405);
}

TEST_CASE("a configured token guards api ask and diagnose but not health or metrics") {
  bool ready = true;
  Sync api{make_api(sources(&ready), "t0ken")};
  CHECK(api({"GET", "/api/incidents", "", ""}).status == 401);
  CHECK(api({"GET", "/api/incidents", "Bearer wrong", ""}).status == 401);
  CHECK(api({"GET", "/api/incidents", "Bearer t0ken", ""}).status == 200);
  CHECK(api({"POST", "/diagnose", "", "{}"}).status == 401);
  CHECK(api({"GET", "/healthz", "", ""}).status == 200);
  CHECK(api({"GET", "/metrics", "", ""}).status == 200);
  CHECK(token_matches("abc", "abc"));
  CHECK_FALSE(token_matches("abd", "abc"));
  CHECK_FALSE(token_matches("ab", "abc"));
}

TEST_CASE("the embedded web page and its files are served with a strict CSP") {
  bool ready = true;
  Sync api{make_api(sources(&ready), "t0ken")};  // the page itself needs no token
  auto page = api({"GET", "/", "", ""});
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body.find("<title>podmedic</title>") != std::string::npos);
  CHECK(page.body.find("src=\"/static/app.js\"") != std::string::npos);
  CHECK(page.body.find("http") == std::string::npos);  // no external origin, no CDN
  bool csp = false;
  for (const auto& [k, v] : page.headers) {
    if (k == "Content-Security-Policy") csp = v.find("default-src 'self'") == 0;
  }
  CHECK(csp);
  auto js = api({"GET", "/static/app.js", "", ""});
  CHECK(js.status == 200);
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(js.body.find("/api/incidents") != std::string::npos);
  CHECK(js.body.find("innerHTML") == std::string::npos);  // cluster text is never parsed as HTML
  CHECK(api({"GET", "/static/style.css", "", ""}).content_type == "text/css; charset=utf-8");
  CHECK(api({"GET", "/static/nope.js", "", ""}).status == 404);
  CHECK(api({"POST", "/", "", ""}).status == 405);
}

TEST_CASE("over the socket: keep-alive routes and 413 for a large body") {
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  bool ready = true;
  HttpServer server(ioc, {"127.0.0.1:0", 64 * 1024, 5s}, make_api(sources(&ready), ""));
  auto port = server.start(tasks);
  REQUIRE(port.ok());
  std::string base = "http://127.0.0.1:" + std::to_string(port.value());
  http::PostResult metrics, big, missing;
  std::thread client([&] {
    metrics = http::request("GET", base + "/metrics", {}, "", 5s, 1 << 20);
    big = http::request("POST", base + "/ask", {"Content-Type: application/json"},
                        std::string(70 * 1024, 'x'), 5s);
    missing = http::request("GET", base + "/missing", {}, "", 5s);
  });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (missing.status == 0 && missing.error.empty() &&
         std::chrono::steady_clock::now() < deadline) {
    ioc.run_for(10ms);
  }
  client.join();
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  check_exposition(metrics.body);
  CHECK(big.status == 413);
  CHECK(json::parse(big.body)["error"].get<std::string>().find("64") != std::string::npos);
  CHECK(missing.status == 404);
  server.stop();
  tasks.stop();
}

TEST_CASE("a listen address with a huge or non-numeric port is an error, not an abort") {
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  bool ready = true;
  for (const char* listen :
       {"127.0.0.1:12345678901234567890123", "127.0.0.1:abc", "127.0.0.1:", "127.0.0.1:65536"}) {
    INFO(listen);
    HttpServer server(ioc, {listen, 64 * 1024, 5s}, make_api(sources(&ready), ""));
    auto port = server.start(tasks);
    REQUIRE_FALSE(port.ok());
    CHECK(port.error().message.find("server.listen") == 0);
  }
  tasks.stop();
}

TEST_CASE("request bodies with wrong types and invalid UTF-8 are 400s") {
  bool ready = true;
  Sync api{make_api(sources(&ready), "")};
  CHECK(api({"POST", "/ask", "", R"({"question":5})"}).status == 400);
  CHECK(api({"POST", "/ask", "", R"({"question":["a"]})"}).status == 400);
  CHECK(api({"POST", "/ask", "", R"([1])"}).status == 400);
  CHECK(api({"POST", "/diagnose", "", R"({"question":"x","namespace":{}})"}).status == 400);
  CHECK(api({"POST", "/diagnose", "", R"({"question":"x","namespace":"a","pod":7})"}).status ==
        400);
  auto bad = api({"POST", "/ask", "", "{\"question\":\"\xff\xfe\"}"});
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body).contains("error"));
}
