// The podmedic binary as a user runs it: exit codes and output of version, check-config, run
// with a bad kubeconfig, and a short demo run that must detect all three failure kinds.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/http_mock.h"

namespace {
struct Run {
  int code;
  std::string out;
};
Run run(const std::string& args) {
  std::string cmd = std::string(PODMEDIC_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
std::string temp_file(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST_CASE("podmedic version prints the version") {
  auto r = run("version");
  CHECK(r.code == 0);
  CHECK(r.out.rfind("podmedic ", 0) == 0);
}

TEST_CASE("check-config: exit 0 for a valid file and 1 with every problem listed") {
  auto good = temp_file("good.yaml", "cluster:\n  name: c1\n");
  auto ok = run("check-config --config " + good);
  CHECK(ok.code == 0);
  CHECK(ok.out.find("OK") != std::string::npos);
  auto bad = temp_file("bad.yaml", "cluster:\n  nmae: x\ndetect:\n  resolveAfter: soon\n");
  auto r = run("check-config --config " + bad);
  CHECK(r.code == 1);
  CHECK(r.out.find("2 problems") != std::string::npos);
  CHECK(r.out.find("cluster.nmae: unknown key") != std::string::npos);
  CHECK(r.out.find("detect.resolveAfter") != std::string::npos);
  CHECK(run("check-config --config /nonexistent.yaml").code == 1);
  CHECK(run("check-config").code == 2);
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

TEST_CASE("unknown commands print usage and exit 2") {
  auto r = run("explode");
  CHECK(r.code == 2);
  CHECK(r.out.find("usage:") != std::string::npos);
}

TEST_CASE("run with a missing kubeconfig fails with a clear message") {
  auto cfg = temp_file("run.yaml",
                       "cluster:\n  kubeconfig: /nonexistent/kubeconfig\nlog:\n  format: json\n");
  auto r = run("run --config " + cfg);
  CHECK(r.code == 1);
  CHECK(r.out.find("kubeconfig /nonexistent/kubeconfig does not exist") != std::string::npos);
  std::filesystem::remove(cfg);
}

TEST_CASE("run warns loudly when the API listens beyond loopback without a token") {
  auto run_with = [](const std::string& server) {
    auto cfg = temp_file("open.yaml", "cluster:\n  kubeconfig: /nonexistent/kubeconfig\nserver:\n" +
                                          server + "log:\n  format: json\n");
    auto r = run("run --config " + cfg);
    std::filesystem::remove(cfg);
    return r;
  };
  const std::string warning = "WARNING: the HTTP API is open to the network";
  auto open = run_with("  listen: 0.0.0.0:8080\n");
  CHECK(open.out.find(warning) != std::string::npos);
  CHECK(open.out.find(R"("level":"warn")") != std::string::npos);
  CHECK(run_with("  listen: 127.0.0.1:8080\n").out.find(warning) == std::string::npos);
  CHECK(run_with("  listen: 0.0.0.0:8080\n  token: s3cret\n").out.find(warning) ==
        std::string::npos);
}

TEST_CASE("demo: one incident per broken workload opened once and resolved") {
  // The LLM is down (never the default 127.0.0.1:11434): alerts carry the rules-based facts.
  podmedic::test::HttpMock llm([](const podmedic::test::MockRequest&) {
    return podmedic::test::MockResponse{500, R"({"error":"model runner unavailable"})", {}};
  });
  auto cfg = temp_file("demo.yaml", "ollama:\n  url: " + llm.url("") + "\n");
  auto r = run("demo --duration 7s --step 200ms --listen 127.0.0.1:0 --config " + cfg);
  std::filesystem::remove(cfg);
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("synced: watching 10 pods") != std::string::npos);
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto p = r.out.find(needle); p != std::string::npos; p = r.out.find(needle, p + 1)) ++n;
    return n;
  };
  // Three replicas crash three times each: still one OOMKilled incident, announced once.
  CHECK(count("OPENED   [shop] OOMKilled Deployment/cart container app") == 1);
  CHECK(r.out.find("memory limit 256Mi") != std::string::npos);
  CHECK(count("OPENED   [payments] CrashLoopBackOff Deployment/api container app") == 1);
  CHECK(count("OPENED   [web] ImagePullBackOff Deployment/frontend container app") == 1);
  CHECK(r.out.find("image registry.example.com/web/frontend:4.0.3-typo") != std::string::npos);
  CHECK(count("RESOLVED [shop] OOMKilled Deployment/cart") == 1);
  CHECK(count("RESOLVED [payments] CrashLoopBackOff Deployment/api") == 1);
  CHECK(count("RESOLVED [web] ImagePullBackOff Deployment/frontend") == 1);
  CHECK(count("OPENED") == 3);
  // Not failures: the completed job and the rollout's SIGTERM.
  CHECK(r.out.find("nightly-report") == std::string::npos);
  CHECK(r.out.find("checkout") == std::string::npos);
}
