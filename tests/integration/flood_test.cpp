// Exhaustion and starvation, end to end through the podmedic binary under `ulimit -n 256`:
// a thousand idle connections to the HTTP port while a workload crashes (the alert still reaches
// the webhook at once, state is written, /healthz answers once the flood ends); a
// server.maxConnections that does not fit the limit refuses to start, naming the key; and
// fifteen GET /models on an LLM that never answers neither delay an incident's diagnosis nor
// get past the in-flight limit.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "core/http.h"
#include "sim/objects.h"
#include "tests/e2e_support.h"
#include "tests/http_mock.h"
#include "tests/process.h"
#include "tests/support.h"

using namespace podmedic;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;
using test::eventually;
using test::http_port_of;

namespace {

constexpr int kOpenFiles = 256;  // the child's RLIMIT_NOFILE, soft and hard

// podmedic run under `ulimit -n kOpenFiles` (soft and hard: it cannot raise its way out).
std::vector<std::string> limited_run(const fs::path& config) {
  return {
      "/bin/sh",       "-c",  "ulimit -n " + std::to_string(kOpenFiles) + " && exec \"$0\" \"$@\"",
      PODMEDIC_BINARY, "run", "--config",
      config.string()};
}

// The "Max open files" soft limit of a running process, from /proc; -1 if unreadable.
long open_files_limit(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream in(line.substr(14));
      long soft = -1;
      in >> soft;
      return soft;
    }
  }
  return -1;
}

std::vector<json> opened(const test::HttpMock& m) {
  std::vector<json> out;
  for (auto& r : m.requests()) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("type") && j["type"] == "incident.opened") out.push_back(j);
  }
  return out;
}

// Idle TCP connections to 127.0.0.1:port, held until destroyed (the test process's own limit
// is far above kOpenFiles).
struct Flood {
  boost::asio::io_context ioc;
  std::vector<boost::asio::ip::tcp::socket> sockets;
  std::size_t connected = 0;
  Flood(unsigned short port, std::size_t n) {
    sockets.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      sockets.emplace_back(ioc);
      boost::system::error_code ec;
      sockets.back().connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
      if (!ec) ++connected;
    }
  }
};

}  // namespace

TEST_CASE("a thousand idle API connections under ulimit -n 256 do not delay an alert") {
  test::E2eCluster env("flood");
  test::HttpMock webhook([](const test::MockRequest&) { return test::MockResponse{}; });
  // The idle timeout outlasts the test: the flood's connections stay, the cap must hold.
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  name: flood\n  kubeconfig: " << (env.dir / "kubeconfig").string()
      << "\ndetect:\n  resolveAfter: 1h\n"
      << "diagnosis:\n  enabled: false\n  waitBeforeNotify: 0s\n"
      << "notifiers:\n  webhooks:\n    - name: pager\n      url: " << webhook.url() << "\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n  maxConnections: 128\n  idleTimeout: 5m\n"
      << "log:\n  format: json\n  level: info\n";
  test::Child podmedic(limited_run(env.dir / "podmedic.yaml"), env.dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));
  CHECK(open_files_limit(podmedic.pid) == kOpenFiles);
  unsigned port = 0;
  REQUIRE(eventually([&] { return (port = http_port_of(podmedic)) != 0; }));
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  REQUIRE(http::request("GET", base + "/healthz", {}, "", 5s).status == 200);

  {
    Flood flood(static_cast<unsigned short>(port), 1000);
    CHECK(flood.connected == 1000);
    // At the cap: a newcomer is told so (503, JSON) instead of hanging or being reset.
    http::PostResult busy;
    CHECK(eventually([&] {
      busy = http::request("GET", base + "/healthz", {}, "", 5s);
      return busy.status == 503;
    }));
    CHECK(busy.body.find("too many connections") != std::string::npos);
    // A crash during the flood: the watch, the state file and the webhook all still work.
    auto t0 = std::chrono::steady_clock::now();
    env.crash("shop", "cart");
    REQUIRE(eventually([&] { return opened(webhook).size() == 1; }, 10s));
    auto latency = std::chrono::steady_clock::now() - t0;
    INFO("crash to webhook during the flood: "
         << std::chrono::duration_cast<std::chrono::milliseconds>(latency).count() << " ms");
    CHECK(latency < 5s);
    CHECK(opened(webhook)[0]["incident"]["workload"]["name"] == "cart");
    CHECK(eventually([&] { return fs::exists(env.dir / "state" / "incidents.json"); }));
    CHECK(podmedic.running());
  }
  // The flood is gone: the API answers again.
  CHECK(eventually(
      [&] { return http::request("GET", base + "/healthz", {}, "", 5s).status == 200; }));
  CHECK(podmedic.output().find("too many open files") == std::string::npos);
  CHECK(podmedic.terminate() == 0);
}

TEST_CASE("a server.maxConnections that does not fit the open files limit refuses to start") {
  test::E2eCluster env("flood-cap");
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  kubeconfig: " << (env.dir / "kubeconfig").string() << "\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"  // maxConnections: the default 256
      << "log:\n  format: json\n";
  test::Child podmedic(limited_run(env.dir / "podmedic.yaml"), env.dir.string());
  int code = podmedic.wait();
  auto out = podmedic.output();
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find("server.maxConnections 256 needs 320 file descriptors") != std::string::npos);
  CHECK(out.find("set server.maxConnections to at most 192") != std::string::npos);
}

TEST_CASE("fifteen GET /models on a hung LLM neither pass the limit nor delay a diagnosis") {
  test::E2eCluster env("lanes");
  // The LLM server: model listing never answers; chat answers at once.
  test::HttpMock llm([](const test::MockRequest& r) {
    test::MockResponse res;
    if (r.target == "/api/tags") {
      res.hang = true;
    } else {
      res.body =
          R"({"model":"m","message":{"role":"assistant","content":"Mount the data volume."},"done":true})";
      res.headers["Content-Type"] = "application/json";
    }
    return res;
  });
  test::HttpMock webhook([](const test::MockRequest&) { return test::MockResponse{}; });
  // The alert waits up to 30 s for its diagnosis: an incident lane stuck behind /models would
  // show as an alert without the LLM's answer.
  std::ofstream(env.dir / "podmedic.yaml")
      << "cluster:\n  kubeconfig: " << (env.dir / "kubeconfig").string() << "\n"
      << "diagnosis:\n  waitBeforeNotify: 30s\n"
      << "ollama:\n  url: " << llm.url("") << "\n  model: m\n  stream: false\n  timeout: 60s\n"
      << "notifiers:\n  webhooks:\n    - name: pager\n      url: " << webhook.url() << "\n"
      << "state:\n  dir: " << (env.dir / "state").string() << "\n"
      << "server:\n  listen: 127.0.0.1:0\n"
      << "log:\n  format: json\n";
  std::vector<std::string> argv = {PODMEDIC_BINARY, "run", "--config",
                                   (env.dir / "podmedic.yaml").string()};
  test::Child podmedic(argv, env.dir.string());
  REQUIRE(eventually([&] { return env.watching(); }));
  unsigned port = 0;
  REQUIRE(eventually([&] { return (port = http_port_of(podmedic)) != 0; }));
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::vector<http::PostResult> answers(15);
  std::vector<std::thread> clients;
  for (auto& a : answers)
    clients.emplace_back([&a, base] { a = http::request("GET", base + "/models", {}, "", 3s); });
  for (auto& c : clients) c.join();
  int limited = 0;
  for (const auto& a : answers) limited += a.status == 429;
  CHECK(limited == 13);  // two in flight (hung), the rest refused at once
  CHECK(eventually([&] {
    auto r = http::request("POST", base + "/ask", {"Content-Type: application/json"},
                           R"({"question":"x"})", 3s);
    return r.status == 429;  // one limit for /models, /ask and /diagnose
  }));
  auto t0 = std::chrono::steady_clock::now();
  env.crash("shop", "cart");
  REQUIRE(eventually([&] { return opened(webhook).size() == 1; }, 40s));
  auto latency = std::chrono::steady_clock::now() - t0;
  INFO("crash to diagnosed alert: "
       << std::chrono::duration_cast<std::chrono::milliseconds>(latency).count() << " ms");
  CHECK(latency < 10s);
  CHECK(webhook.requests()[0].body.find("Mount the data volume.") != std::string::npos);
  int rc = podmedic.terminate();
  auto out = podmedic.output();
  INFO(out.substr(out.size() > 2000 ? out.size() - 2000 : 0));
  CHECK(rc == 0);
}
