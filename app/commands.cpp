#include "app/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <tuple>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/pipeline.h"
#include "core/log.h"
#include "core/text.h"
#include "core/units.h"
#include "sim/scenario.h"
#include "sim/server.h"

namespace podmedic::app {

namespace net = boost::asio;

namespace {

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

void stop_on_signals(net::io_context& ioc, net::signal_set& signals) {
  signals.async_wait([&ioc](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("app", "shutting down", {{"signal", sig}});
    ioc.stop();
  });
}

}  // namespace

// "1 slack, 2 webhooks, 1 pagerduty", or "none".
std::string notifier_summary(const Config& c) {
  std::string out;
  auto add = [&](std::size_t n, const char* kind) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + kind;
  };
  add(c.notifiers.slack.size(), "slack");
  add(c.notifiers.webhooks.size(), c.notifiers.webhooks.size() == 1 ? "webhook" : "webhooks");
  add(c.notifiers.alertmanager.size(), "alertmanager");
  add(c.notifiers.pagerduty.size(), "pagerduty");
  add(c.notifiers.teams.size(), "teams");
  return out.empty() ? "none" : out;
}

std::optional<Config> load_for_command(const std::optional<std::string>& path) {
  if (!path) return Config{};
  auto r = load_config(*path);
  if (!r.errors.empty()) {
    std::fprintf(stderr, "podmedic: invalid configuration %s:\n", path->c_str());
    for (const auto& e : r.errors) std::fprintf(stderr, "  %s\n", e.c_str());
    return std::nullopt;
  }
  return r.config;
}

int check_config_command(const CheckConfigOptions& o) {
  if (o.reference) {
    std::fputs(config_reference().c_str(), stdout);
    return 0;
  }
  const auto& path = o.config;
  if (!path) {
    std::fputs(
        "podmedic check-config: --config FILE or --reference is required\n"
        "Run 'podmedic check-config --help' for usage.\n",
        stderr);
    return 2;
  }
  auto r = load_config(*path);
  if (!r.errors.empty()) {
    std::fprintf(stdout, "%s: %zu problem%s\n", path->c_str(), r.errors.size(),
                 r.errors.size() == 1 ? "" : "s");
    for (const auto& e : r.errors) std::fprintf(stdout, "  %s\n", e.c_str());
    return 1;
  }
  const auto& c = r.config;
  const std::string watching = c.watch.namespaces.empty()
                                   ? std::string("all namespaces")
                                   : text::count_of(c.watch.namespaces.size(), "namespace");
  std::fprintf(stdout, "%s: OK (cluster %s, notifiers: %s, watching %s)\n", path->c_str(),
               c.cluster.name.c_str(), notifier_summary(c).c_str(), watching.c_str());
  return 0;
}

int run_command(const RunOptions& o) {
  auto config = load_for_command(o.config);
  if (!config) return 1;
  log::init(level_of(config->log.level), format_of(config->log.format));
  if (config->server.token.empty() && listens_beyond_loopback(config->server.listen)) {
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
  Pipeline pipeline(ioc, *config, std::move(conn.value()), Output::kLogAndNotifiers, clock);
  if (auto r = pipeline.start(); !r.ok()) {
    log::error("app", "cannot start", {{"error", r.error().message}});
    return 1;
  }
  log::info("app", "notifiers ready",
            {{"slack", config->notifiers.slack.size()},
             {"webhooks", config->notifiers.webhooks.size()},
             {"alertmanager", config->notifiers.alertmanager.size()},
             {"pagerduty", config->notifiers.pagerduty.size()},
             {"teams", config->notifiers.teams.size()}});
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  stop_on_signals(ioc, signals);
  ioc.run();
  pipeline.stop();  // the state and the outbox written; undelivered messages wait in the outbox
  // Lost the Lease: exit non-zero, Kubernetes restarts this replica as a follower.
  return pipeline.lost_leadership() ? 1 : 0;
}

int demo_command(const DemoOptions& o) {
  std::chrono::milliseconds duration{0}, step{std::chrono::seconds(2)};
  for (auto [flag, value, out] :
       {std::tuple{"--duration", &o.duration, &duration}, std::tuple{"--step", &o.step, &step}}) {
    if (const auto& v = *value) {
      auto d = parse_duration(*v);
      if (!d.ok()) {
        std::fprintf(stderr, "podmedic demo: %s: %s\n", flag, d.error().message.c_str());
        return 2;
      }
      *out = d.value();
    }
  }
  // The script's pace: below 100 ms the simulated cluster would spin a core.
  if (step < std::chrono::milliseconds(100) || step > std::chrono::hours(1)) {
    std::fprintf(stderr, "podmedic demo: --step: must be between 100ms and 1h\n");
    return 2;
  }
  // --config is optional here: its ollama, diagnosis, server and watch sections apply (the
  // watch scope too, which the API and MCP enforce); the cluster, state and timings are the
  // demo's own. Read before anything starts: a bad file leaves nothing behind.
  auto loaded = load_for_command(o.config);
  if (!loaded) return 1;
  Config config = *loaded;
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
  // Removed on every way out (the kubeconfig holds a token; the state is the demo's alone).
  struct RemoveDir {
    std::filesystem::path dir;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove_dir{dir};
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
  config.cluster = ClusterSettings{};
  config.cluster.name = "demo";
  config.state.dir = (dir / "state").string();
  // Demo time runs fast: resolve after five steps of health, hold flaps down for ten.
  config.detect.resolve_after = step * 5;
  config.detect.flap_hold_down = step * 10;
  config.detect.renotify_after = std::chrono::milliseconds(0);
  if (o.listen) {
    config.server.listen = *o.listen;
  } else if (!o.config) {
    config.server.listen = "127.0.0.1:8080";
  }
  SystemClock clock;
  PipelineOptions popts;
  popts.tick = std::max(std::chrono::milliseconds(50), step / 2);
  Pipeline pipeline(ioc, config, std::move(conn.value()), Output::kConsole, clock, popts);
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
  return 0;
}

}  // namespace podmedic::app
