// podmedic: the command line. run | demo | check-config | version (diagnose comes with the
// diagnosis module). Exit codes: 0 ok, 1 runtime/config failure, 2 usage.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/config.h"
#include "app/pipeline.h"
#include "core/log.h"
#include "core/units.h"
#include "diagnosis/evidence.h"
#include "diagnosis/evidence_source.h"
#include "diagnosis/llm_service.h"
#include "diagnosis/redact.h"
#include "incidents/tracker.h"
#include "sim/scenario.h"
#include "sim/server.h"

namespace net = boost::asio;
using namespace podmedic;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  podmedic run [--config FILE]            watch the cluster (in-cluster, $KUBECONFIG or "
    "~/.kube/config)\n"
    "  podmedic demo [--duration D] [--step D] [--listen HOST:PORT] [--config FILE]\n"
    "                                          an embedded simulated cluster with scripted "
    "failures\n"
    "  podmedic diagnose NAMESPACE[/POD] [--config FILE] [--question TEXT] [--no-llm]\n"
    "                                          redacted evidence, the LLM's answer and the "
    "rules-based facts\n"
    "  podmedic check-config --config FILE     validate the config and print every problem\n"
    "  podmedic check-config --reference       print every config key with its default\n"
    "  podmedic version\n";

struct Args {
  std::string command;
  std::vector<std::string> rest;
  std::optional<std::string> get(const std::string& flag) const {
    for (std::size_t i = 0; i + 1 < rest.size(); ++i) {
      if (rest[i] == flag) return rest[i + 1];
    }
    for (const auto& a : rest) {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
    }
    return std::nullopt;
  }
  bool has(const std::string& flag) const {
    return std::find(rest.begin(), rest.end(), flag) != rest.end();
  }
};

log::Level level_of(const std::string& s) {
  if (s == "debug") return log::Level::kDebug;
  if (s == "warn") return log::Level::kWarn;
  if (s == "error") return log::Level::kError;
  return log::Level::kInfo;
}

log::Format format_of(const std::string& s) {
  if (s == "json") return log::Format::kJson;
  if (s == "text") return log::Format::kText;
  return log::Format::kAuto;
}

bool cpu_ok() {
#if defined(PODMEDIC_REQUIRES_AVX2)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2")) {
    std::fprintf(stderr,
                 "podmedic: this build needs an x86-64-v3 CPU (AVX2); rebuild with "
                 "-DPODMEDIC_PORTABLE=ON\n");
    return false;
  }
#endif
  return true;
}

std::optional<app::Config> load(const Args& args) {
  auto path = args.get("--config");
  if (!path) return app::Config{};
  auto r = app::load_config(*path);
  if (!r.errors.empty()) {
    std::fprintf(stderr, "podmedic: invalid configuration %s:\n", path->c_str());
    for (const auto& e : r.errors) std::fprintf(stderr, "  %s\n", e.c_str());
    return std::nullopt;
  }
  return r.config;
}

void stop_on_signals(net::io_context& ioc, net::signal_set& signals) {
  signals.async_wait([&ioc](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("app", "shutting down", {{"signal", sig}});
    ioc.stop();
  });
}

int cmd_check_config(const Args& args) {
  if (args.has("--reference")) {
    std::fputs(app::config_reference().c_str(), stdout);
    return 0;
  }
  auto path = args.get("--config");
  if (!path) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto r = app::load_config(*path);
  if (!r.errors.empty()) {
    std::fprintf(stdout, "%s: %zu problem%s\n", path->c_str(), r.errors.size(),
                 r.errors.size() == 1 ? "" : "s");
    for (const auto& e : r.errors) std::fprintf(stdout, "  %s\n", e.c_str());
    return 1;
  }
  const auto& c = r.config;
  std::fprintf(stdout, "%s: OK (cluster %s, %zu slack and %zu webhook notifiers, watching %s)\n",
               path->c_str(), c.cluster.name.c_str(), c.notifiers.slack.size(),
               c.notifiers.webhooks.size(),
               c.watch.namespaces.empty()
                   ? "all namespaces"
                   : (std::to_string(c.watch.namespaces.size()) + " namespaces").c_str());
  return 0;
}

int cmd_diagnose(const Args& args) {
  std::string target;
  for (std::size_t i = 0; i < args.rest.size(); ++i) {
    if (args.rest[i] == "--no-llm") continue;
    if (args.rest[i].rfind("--", 0) == 0) {
      if (args.rest[i].find('=') == std::string::npos) ++i;  // a flag and its value
      continue;
    }
    target = args.rest[i];
    break;
  }
  if (target.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto config = load(args);
  if (!config) return 1;
  log::init(log::Level::kError, log::Format::kText);
  auto slash = target.find('/');
  std::string ns = target.substr(0, slash);
  std::string pod = slash == std::string::npos ? "" : target.substr(slash + 1);
  auto conn = k8s::resolve_connection(config->cluster.kubeconfig, config->cluster.context);
  if (!conn.ok()) {
    std::fprintf(stderr, "podmedic diagnose: %s\n", conn.error().message.c_str());
    return 1;
  }
  auto redactor = diagnosis::Redactor::create(config->diagnosis.redact_patterns);
  if (!redactor.ok()) {
    std::fprintf(stderr, "podmedic diagnose: %s\n", redactor.error().message.c_str());
    return 1;
  }
  const bool use_llm = config->diagnosis.enabled && !args.has("--no-llm");
  net::io_context ioc;
  k8s::KubeClient client(ioc.get_executor(), std::move(conn.value()));
  Interner interner;
  rules::Detector detector(interner, config->detect.rules);
  // No watcher here: every read goes to the API server.
  diagnosis::EvidenceSource evidence(
      client, interner, detector,
      diagnosis::LogBudget{config->diagnosis.fetch_bytes, config->diagnosis.max_bytes});
  prometheus::Registry registry;
  // The same service as `podmedic run`'s /diagnose: one prompt over the pod (or the namespace's
  // first LlmService::kMaxPods failing pods), one redaction session for all of it.
  diagnosis::LlmService llm(
      std::make_shared<diagnosis::HttpLlmClient>(diagnosis::llm_settings(config->ollama)),
      *redactor, evidence, registry);
  diagnosis::DiagnoseRequest req;
  req.question = args.get("--question").value_or("");
  req.ns = ns;
  req.pod = pod;
  req.ask_llm = use_llm;
  req.ask_without_failing_pods = false;
  req.before_llm = [&] {
    std::fprintf(stderr, "asking %s at %s…\n", llm.client().model().c_str(),
                 diagnosis::url_without_credentials(config->ollama.url).c_str());
  };
  int rc = 0;
  auto run = [&]() -> net::awaitable<void> {
    auto op = llm.diagnose(req);
    const auto r = co_await std::move(op);
    if (r.outcome == diagnosis::LlmOutcome::kListFailed) {
      std::fprintf(stderr, "podmedic diagnose: namespace %s: %s\n", ns.c_str(), r.error.c_str());
      rc = 1;
      co_return;
    }
    if (r.outcome == diagnosis::LlmOutcome::kPodNotFound ||
        r.outcome == diagnosis::LlmOutcome::kPodFailed) {
      std::fprintf(stderr, "podmedic diagnose: %s/%s: %s\n", ns.c_str(), r.failed_pod.c_str(),
                   r.error.c_str());
      rc = 1;
      co_return;
    }
    if (r.pods.empty()) {
      std::printf("No failing pods in namespace %s.\n", ns.c_str());
      co_return;
    }
    // Everything printed is redacted (one session over the evidence, the question, the answer
    // and the facts): logs are untrusted and may hold secrets.
    std::printf("%s", r.context.c_str());
    // The facts: one pod's as they are, several pods' prefixed with the pod.
    auto print_facts = [&r] {
      if (r.pods.size() == 1) {
        for (const auto& f : r.pods.front().findings) std::printf("- %s\n", f.c_str());
      } else {
        for (const auto& f : r.facts) std::printf("- %s\n", f.c_str());
      }
    };
    if (r.asked && r.outcome == diagnosis::LlmOutcome::kOk) {
      std::printf("== Answer (%s) ==\n", r.model.c_str());
      if (!r.question.empty()) std::printf("Question: %s\n", r.question.c_str());
      std::printf("%s\n%s\n== Facts (rules) ==\n", r.answer.c_str(),
                  r.truncated ? "[answer cut at ollama.numPredict]" : "");
      print_facts();
      std::printf("\n");
      co_return;
    }
    if (r.asked) {
      std::printf("== Answer (rules-based; LLM unavailable: %s) ==\n", r.error.c_str());
    } else {
      std::printf("== Answer (rules-based) ==\n");
    }
    if (!r.question.empty()) std::printf("Question: %s\n", r.question.c_str());
    if (r.facts.empty()) std::printf("No container of this pod is failing right now.\n");
    print_facts();
    std::printf("\n");
  };
  net::co_spawn(ioc, run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ioc.run();
  return rc;
}

int cmd_run(const Args& args) {
  auto config = load(args);
  if (!config) return 1;
  log::init(level_of(config->log.level), format_of(config->log.format));
  if (config->server.token.empty() && app::listens_beyond_loopback(config->server.listen)) {
    // Loud on purpose: anyone who reaches the port can ask the LLM and read pods' (redacted)
    // logs through /diagnose with podmedic's cluster-wide role.
    log::warn("server",
              "WARNING: the HTTP API is open to the network: server.listen is beyond loopback "
              "and server.token is empty; anyone who can reach the port can use /ask, /diagnose "
              "(pods' redacted logs) and /api/incidents. Set server.token (e.g. "
              "${PODMEDIC_TOKEN}) or listen on 127.0.0.1",
              {{"listen", config->server.listen}});
  }
  auto conn = k8s::resolve_connection(config->cluster.kubeconfig, config->cluster.context);
  if (!conn.ok()) {
    log::error("app", "cannot configure the Kubernetes connection",
               {{"error", conn.error().message}});
    return 1;
  }
  log::info("app", "starting",
            {{"version", PODMEDIC_VERSION},
             {"cluster", config->cluster.name},
             {"server", conn->server},
             {"context", conn->context_name}});
  net::io_context ioc;
  SystemClock clock;
  app::Pipeline pipeline(ioc, *config, std::move(conn.value()), app::Output::kLogAndNotifiers,
                         clock);
  if (auto r = pipeline.start(); !r.ok()) {
    log::error("app", "cannot start", {{"error", r.error().message}});
    return 1;
  }
  log::info(
      "app", "notifiers ready",
      {{"slack", config->notifiers.slack.size()}, {"webhooks", config->notifiers.webhooks.size()}});
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  stop_on_signals(ioc, signals);
  ioc.run();
  pipeline.stop();  // the state and the outbox written; undelivered messages wait in the outbox
  // Lost the Lease: exit non-zero, Kubernetes restarts this replica as a follower.
  return pipeline.lost_leadership() ? 1 : 0;
}

int cmd_demo(const Args& args) {
  std::chrono::milliseconds duration{0}, step{std::chrono::seconds(2)};
  for (auto [flag, out] : {std::pair{"--duration", &duration}, std::pair{"--step", &step}}) {
    if (auto v = args.get(flag)) {
      auto d = parse_duration(*v);
      if (!d.ok()) {
        std::fprintf(stderr, "podmedic demo: %s: %s\n", flag, d.error().message.c_str());
        return 2;
      }
      *out = d.value();
    }
  }
  log::init(log::Level::kWarn, log::Format::kText);
  net::io_context ioc;
  sim::ServerOptions so;
  so.tls = true;
  so.token = "demo-" + std::to_string(::getpid());
  so.bookmark_interval = std::chrono::seconds(10);
  sim::ApiServer server(ioc, so);
  server.listen("127.0.0.1", 0);
  sim::DemoCluster cluster(server, [] { return static_cast<std::int64_t>(std::time(nullptr)); });
  cluster.populate();

  // A fresh private directory (mkdtemp: 0700, a name nobody can predict or pre-plant), and the
  // kubeconfig (it holds the demo's bearer token) created there exclusively, owner-only,
  // never through a symlink.
  const char* tmp_env = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp_env && *tmp_env ? tmp_env : "/tmp") + "/podmedic-demo-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "podmedic demo: cannot create a temporary directory %s: %s\n",
                 tmpl.c_str(), std::strerror(errno));
    return 1;
  }
  const std::filesystem::path dir = tmpl;
  auto kubeconfig = (dir / "kubeconfig").string();
  {
    int fd = ::open(kubeconfig.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    std::string text = server.kubeconfig(so.token);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      std::fprintf(stderr, "podmedic demo: cannot write %s: %s\n", kubeconfig.c_str(),
                   std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return 1;
    }
    ::close(fd);
  }
  std::printf("podmedic demo: simulated cluster at %s\n", server.url().c_str());
  std::printf("  explore it: kubectl --kubeconfig %s get pods -A\n", kubeconfig.c_str());
  std::printf(
      "  workloads will break (OOMKilled, CrashLoopBackOff, ImagePullBackOff) and recover; Ctrl-C "
      "to stop\n\n");
  std::fflush(stdout);

  auto conn = k8s::load_kubeconfig({kubeconfig}, "");
  if (!conn.ok()) {
    std::fprintf(stderr, "podmedic demo: %s\n", conn.error().message.c_str());
    return 1;
  }
  // --config is optional here: its ollama, diagnosis, server and watch sections apply (the
  // watch scope too, which the API and MCP enforce); the cluster, state and timings are the
  // demo's own.
  auto loaded = load(args);
  if (!loaded) return 2;
  app::Config config = *loaded;
  config.cluster = app::ClusterSettings{};
  config.cluster.name = "demo";
  config.state.dir = (dir / "state").string();
  // Demo time runs fast: resolve after five steps of health, hold flaps down for ten.
  config.detect.resolve_after = step * 5;
  config.detect.flap_hold_down = step * 10;
  config.detect.renotify_after = std::chrono::milliseconds(0);
  if (auto listen = args.get("--listen")) {
    config.server.listen = *listen;
  } else if (!args.get("--config")) {
    config.server.listen = "127.0.0.1:8080";
  }
  SystemClock clock;
  app::PipelineOptions popts;
  popts.tick = std::max(std::chrono::milliseconds(50), step / 2);
  app::Pipeline pipeline(ioc, config, std::move(conn.value()), app::Output::kConsole, clock, popts);
  bool announced = false;
  if (auto r = pipeline.start(); !r.ok()) {
    std::fprintf(stderr, "podmedic demo: %s\n", r.error().message.c_str());
    return 1;
  }
  std::printf("  web page: http://127.0.0.1:%u/\n", static_cast<unsigned>(pipeline.http_port()));
  std::printf("  metrics and API: http://127.0.0.1:%u/metrics  /api/incidents  /readyz\n\n",
              static_cast<unsigned>(pipeline.http_port()));
  std::fflush(stdout);
  auto on_done = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  net::co_spawn(ioc, cluster.run(step), on_done);
  net::steady_timer synced_check(ioc);
  std::function<void()> check = [&] {
    if (!announced && pipeline.synced()) {
      announced = true;
      std::printf("synced: watching %zu pods\n", pipeline.pods().size());
      std::fflush(stdout);
      return;
    }
    synced_check.expires_after(std::chrono::milliseconds(50));
    synced_check.async_wait([&](boost::system::error_code ec) {
      if (!ec) check();
    });
  };
  check();
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  stop_on_signals(ioc, signals);
  net::steady_timer deadline(ioc);
  if (duration.count() > 0) {
    deadline.expires_after(duration);
    deadline.async_wait([&](boost::system::error_code ec) {
      if (!ec) ioc.stop();
    });
  }
  ioc.run();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (!cpu_ok()) return 1;
  Args args;
  if (argc >= 2) args.command = argv[1];
  for (int i = 2; i < argc; ++i) args.rest.emplace_back(argv[i]);
  if (args.command == "version" || args.command == "--version") {
    std::printf("podmedic %s\n", PODMEDIC_VERSION);
    return 0;
  }
  if (args.command == "run") return cmd_run(args);
  if (args.command == "demo") return cmd_demo(args);
  if (args.command == "check-config") return cmd_check_config(args);
  if (args.command == "diagnose") return cmd_diagnose(args);
  if (args.command == "help" || args.command == "--help" || args.command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
