// The podmedic binary as a user runs it: exit codes and output of version, check-config, run
// with a bad kubeconfig, and a short demo run that must detect all three failure kinds.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/diagnose_cli.h"
#include "tests/http_mock.h"
#include "tests/process.h"
#include "tests/support.h"

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
  CHECK(run("check-config --config /tmp").code == 1);  // a directory is not a config
  CHECK(run("check-config").code == 2);
  auto kinds = temp_file("kinds.yaml",
                         "notifiers:\n  webhooks:\n    - name: a\n      url: http://x\n"
                         "  teams:\n    - name: t\n      webhookUrl: https://x.example/y\n");
  CHECK(run("check-config --config " + kinds).out.find("notifiers: 1 webhook, 1 teams") !=
        std::string::npos);
  std::filesystem::remove(kinds);
  // The reference is a valid configuration.
  auto ref = temp_file("reference.yaml", run("check-config --reference").out);
  CHECK(run("check-config --config " + ref).code == 0);
  std::filesystem::remove(ref);
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

TEST_CASE("podmedic version names the commit, build date, compiler and simdjson kernel") {
  for (const char* cmd : {"version", "--version"}) {
    auto r = run(cmd);
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(r.out.find("\ncommit:   ") != std::string::npos);
    CHECK(r.out.find("\nbuilt:    20") != std::string::npos);
    CHECK(r.out.find("\ncompiler: GCC ") != std::string::npos);
    // The kernel in use, never the fallback: the build targets x86-64-v3.
    CHECK(r.out.find("\nsimdjson: ") != std::string::npos);
    CHECK(r.out.find("simdjson: fallback") == std::string::npos);
  }
}

TEST_CASE("unknown commands and flags: one line naming them, a hint, exit 2") {
  auto bogus = run("bogus");
  CHECK(bogus.code == 2);
  CHECK(bogus.out == "podmedic: unknown command \"bogus\"\nRun 'podmedic --help' for usage.\n");
  auto typo = run("dmeo");
  CHECK(typo.code == 2);
  CHECK(typo.out.find("unknown command \"dmeo\" (did you mean demo?)") != std::string::npos);
  // Used to run with defaults against the current context.
  auto conifg = run("run --conifg x");
  CHECK(conifg.code == 2);
  CHECK(conifg.out ==
        "podmedic run: unknown flag --conifg (did you mean --config?)\n"
        "Run 'podmedic run --help' for usage.\n");
  CHECK(run("demo --duration=1s --lisen 127.0.0.1:0").code == 2);
  CHECK(run("run stray").code == 2);
  CHECK(run("run --config").code == 2);  // a flag without its value
  CHECK(run("diagnose").code == 2);      // no NAMESPACE
  auto output = run("diagnose shop -o yaml");
  CHECK(output.code == 2);
  CHECK(output.out.find("--output: yaml not in {text,json}") != std::string::npos);
  CHECK(run("check-config --refrence").code == 2);
  auto none = run("");
  CHECK(none.code == 2);
  CHECK(none.out.find("Usage: podmedic") != std::string::npos);
}

TEST_CASE("every command's --help prints its help and starts nothing") {
  // run/demo would start the daemon or the demo (and, for run, look for a kubeconfig): with
  // --help they print and exit 0 at once, whatever else is on the line.
  for (std::string cmd : {"run", "demo", "diagnose", "check-config", "version", "help"}) {
    for (std::string flag : {" --help", " -h"}) {
      auto r = run(cmd + flag + " --config /nonexistent.yaml");
      INFO(cmd + flag << ": " << r.out);
      CHECK(r.code == 0);
      CHECK(r.out.find("Usage: podmedic " + cmd) != std::string::npos);
      CHECK(r.out.find("simulated cluster at") == std::string::npos);
      CHECK(r.out.find("does not exist") == std::string::npos);
    }
  }
  auto top = run("--help");
  CHECK(top.code == 0);
  for (const char* cmd : {"run", "demo", "diagnose", "check-config", "version"}) {
    CHECK(top.out.find(std::string("\n  ") + cmd + " ") != std::string::npos);
  }
  CHECK(run("help").out == top.out);
  auto help_diagnose = run("help diagnose");
  CHECK(help_diagnose.code == 0);
  CHECK(help_diagnose.out.find("-o,--output text|json") != std::string::npos);
  CHECK(run("help nope").code == 2);
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

TEST_CASE("diagnose groups failing pods by workload and failure") {
  using podmedic::app::FailingPod;
  auto groups = podmedic::app::group_by_workload({
      FailingPod{"api-1", "Deployment/api", "app=CrashLoopBackOff"},
      FailingPod{"cart-1", "Deployment/cart", "app=OOMKilled"},
      FailingPod{"api-2", "Deployment/api", "app=CrashLoopBackOff"},
      FailingPod{"api-3", "Deployment/api", "app=ImagePullBackOff"},
      FailingPod{"cart-2", "Deployment/cart", "app=OOMKilled"},
  });
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].workload == "Deployment/api");
  CHECK(groups[0].pods == std::vector<std::string>{"api-1", "api-2"});
  CHECK(groups[1].pods == std::vector<std::string>{"cart-1", "cart-2"});
  CHECK(groups[2].pods == std::vector<std::string>{"api-3"});  // same workload, other failure
  CHECK(podmedic::app::group_by_workload({}).empty());
}

TEST_CASE("diagnose against the simulated cluster: grouped, JSON, missing namespace") {
  podmedic::test::BackgroundSim sim;
  sim.call([&] {
    for (int i = 0; i < 3; ++i) sim.cluster.step();  // the three cart replicas get OOMKilled
  });
  auto cart = sim.call([&] { return sim.cluster.pods_of("shop", "cart"); });
  REQUIRE(cart.size() == 3);
  podmedic::test::TempDir dir;
  auto kubeconfig = dir.write(
      "kubeconfig", sim.call([&] { return sim.server.kubeconfig("kubectl-test-token"); }));
  auto config = dir.write("podmedic.yaml", "cluster:\n  kubeconfig: " + kubeconfig + "\n");

  // The API answers 404 for the namespace: an error, not "No failing pods".
  auto missing = run("diagnose nosuchns --no-llm --config " + config);
  CHECK(missing.code == 1);
  CHECK(missing.out.find("namespace \"nosuchns\" not found") != std::string::npos);
  CHECK(missing.out.find("No failing pods") == std::string::npos);
  CHECK(run("diagnose nosuchns/pod --no-llm --config " + config).code == 1);

  // Three replicas failing the same way: their evidence once, every pod named.
  auto text = run("diagnose shop --no-llm --config " + config);
  INFO(text.out);
  CHECK(text.code == 0);
  CHECK(text.out.find("=== Deployment/cart: 3 pods failing the same way (evidence of the first): " +
                      cart[0] + ", " + cart[1] + ", " + cart[2] + " ===") != std::string::npos);
  auto count = [](const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
  };
  CHECK(count(text.out, "== Pod ==") == 1);
  CHECK(count(text.out, "== Answer (rules-based) ==") == 1);

  auto js = run("diagnose shop -o json --no-llm --config " + config);
  CHECK(js.code == 0);
  auto j = nlohmann::json::parse(js.out, nullptr, false);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 1);
  CHECK(j[0]["workload"] == "Deployment/cart");
  CHECK(j[0]["pods"] == nlohmann::json(cart));
  CHECK(j[0]["context"].get<std::string>().find("OOMKilled") != std::string::npos);
  CHECK(j[0]["facts"].size() >= 1);

  // The LLM is down: each element is the 503 body of POST /diagnose (error, context, facts).
  podmedic::test::HttpMock llm([](const podmedic::test::MockRequest&) {
    return podmedic::test::MockResponse{500, R"({"error":"model runner unavailable"})", {}};
  });
  auto down = dir.write("down.yaml", "cluster:\n  kubeconfig: " + kubeconfig +
                                         "\nollama:\n  url: " + llm.url("") + "\n");
  auto asked = run("diagnose shop -o json --config " + down);
  CHECK(asked.code == 0);
  auto a = nlohmann::json::parse(asked.out.substr(asked.out.find('[')), nullptr, false);
  REQUIRE(a.is_array());
  REQUIRE(a.size() == 1);
  CHECK(a[0]["error"].get<std::string>().find("model runner unavailable") != std::string::npos);
  CHECK(a[0].contains("context"));

  // A healthy namespace that exists: no failing pods, exit 0; as JSON an empty array.
  auto healthy = run("diagnose batch --no-llm --config " + config);
  CHECK(healthy.code == 0);
  CHECK(healthy.out.find("No failing pods in namespace batch.") != std::string::npos);
  CHECK(run("diagnose batch -o json --no-llm --config " + config).out == "[]\n");
}

TEST_CASE("demo: a bad --step, --config or --listen fails before or without leaving files") {
  auto fast = run("demo --duration=1s --step 0s --listen 127.0.0.1:0");
  CHECK(fast.code == 2);
  CHECK(fast.out.find("--step: must be between 100ms and 1h") != std::string::npos);
  CHECK(fast.out.find("simulated cluster") == std::string::npos);  // nothing started
  // A private TMPDIR: the demo's temporary directory must be gone after each failure.
  char tmpl[] = "/tmp/podmedic-cli-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string tmp = tmpl;
  auto bad = temp_file("bad-demo.yaml", "server:\n  lisen: x\n");
  auto cfg = run("demo --duration=1s --config " + bad);
  CHECK(cfg.code == 1);  // as `run` does for an invalid configuration
  CHECK(cfg.out.find("simulated cluster") == std::string::npos);
  // The port is taken once the demo has made its directory: it fails there and cleans up.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor taken(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = std::to_string(taken.local_endpoint().port());
  ::setenv("TMPDIR", tmp.c_str(), 1);
  auto used = run("demo --duration=1s --listen 127.0.0.1:" + port);
  ::unsetenv("TMPDIR");
  CHECK(used.code == 1);
  CHECK(used.out.find("simulated cluster") != std::string::npos);  // it got that far
  CHECK(std::filesystem::is_empty(tmp));
  std::filesystem::remove_all(tmp);
  std::filesystem::remove(bad);
}
