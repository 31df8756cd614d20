// Detection-latency benchmark (run on demand; not a test). A simulator in a separate process
// serves 2,000 healthy pods and changes them at ~1,000 events/s in the background, while pods of
// distinct deployments crash (OOMKilled) at a steady rate. podmedic's real pipeline (client,
// watcher, detector, incident tracker with its state dir) watches it; we report the time from
// the watch bytes arriving to the incident being opened (p50/p99/max), and the background event
// rate actually ingested.
//
//   build/release/bench/detection_bench [--seconds 20] [--load 1000] [--crashes-per-s 20]
//                                       [--http-clients 200]
// With --http-clients N, two more phases of the same length follow the measured one, with wrk
// (Debian's) holding N keep-alive connections on /metrics, then on /api/incidents: their p99
// latency and throughput, and the ingest rate left, against the first phase as the baseline.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/pipeline.h"
#include "bench/proc_stats.h"
#include "core/log.h"
#include "sim/objects.h"
#include "sim/server.h"

using namespace podmedic;
namespace net = boost::asio;
using Steady = std::chrono::steady_clock;

namespace {

struct Sink final : incidents::IncidentSink {
  std::size_t opened = 0;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    if (e.type == incidents::EventType::kOpened || e.type == incidents::EventType::kDigest)
      opened += e.incidents.size();
  }
};

// The simulator with its background load, in a child process.
template <class Ready>
void serve_sim(int load_per_s, int crashes_per_s, int seconds, Ready ready) {
  net::io_context ioc;
  sim::ServerOptions so;
  so.history_limit = 50000;
  sim::ApiServer server(ioc, so);
  const std::int64_t t0 = 1'790'000'000;
  const int healthy = 2000;
  for (int i = 0; i < healthy; ++i) {
    sim::PodTemplate t;
    t.ns = "load";
    t.deployment = "svc" + std::to_string(i % 100);
    t.name = t.deployment + "-" + t.rs_hash + "-" + std::to_string(i);
    server.store().upsert(sim::Res::kPods, sim::make_pod(t, t0));
  }
  const int victims = crashes_per_s * seconds + 10;
  for (int i = 0; i < victims; ++i) {
    sim::PodTemplate t;
    t.ns = "victims";
    t.deployment = "victim" + std::to_string(i);
    t.name = t.deployment + "-" + t.rs_hash + "-0";
    server.store().upsert(sim::Res::kPods, sim::make_pod(t, t0));
  }
  unsigned short bound = server.listen("127.0.0.1", 0);
  auto load = [&]() -> net::awaitable<void> {
    net::steady_timer timer(ioc);
    auto start = Steady::now();
    long sent = 0, crashed = 0;
    std::int64_t now = t0;
    for (;;) {
      timer.expires_after(std::chrono::milliseconds(1));
      co_await timer.async_wait(net::as_tuple(net::use_awaitable));
      double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
      // Keep the background rate on schedule, in small batches.
      while (sent < static_cast<long>(elapsed * load_per_s)) {
        auto name =
            "svc" + std::to_string(sent % 100) + "-7d9f8b6c5d-" + std::to_string(sent % healthy);
        auto pod = *server.store().get(sim::Res::kPods, "load", name);
        pod["metadata"]["annotations"]["bench/seq"] = std::to_string(sent);
        server.store().upsert(sim::Res::kPods, std::move(pod));
        ++sent;
      }
      while (crashed < static_cast<long>(elapsed * crashes_per_s) && crashed < victims) {
        auto name = "victim" + std::to_string(crashed) + "-7d9f8b6c5d-0";
        auto pod = *server.store().get(sim::Res::kPods, "victims", name);
        sim::set_crashloop(pod, "app", 137, "OOMKilled", ++now);
        server.store().upsert(sim::Res::kPods, std::move(pod));
        ++crashed;
      }
    }
  };
  ready(bound);
  // Start the load only once the client is watching (it sends SIGUSR1).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  std::thread([&] {
    int sig;
    sigwait(&set, &sig);
    net::post(ioc, [&] {
      net::co_spawn(ioc, load(), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    });
  }).detach();
  ioc.run();
}

pid_t start_sim(int load_per_s, int crashes_per_s, int seconds, unsigned short& port) {
  return bench::fork_simulator(
      [&](auto ready) { serve_sim(load_per_s, crashes_per_s, seconds, ready); }, port);
}

// wrk against `url` for `seconds` with `clients` keep-alive connections, output to `out`.
pid_t start_wrk(const std::string& url, int clients, int seconds, const std::string& out) {
  std::string c = std::to_string(clients), d = std::to_string(seconds) + "s";
  std::vector<std::string> args = {"wrk",       "-t2",       "-c" + c, "-d" + d,
                                   "--latency", "--timeout", "10s",    url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "wrk", &fa, nullptr, argv.data(), environ) != 0) pid = 0;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// "  99%   12.34ms" and "Requests/sec: 1234.5" from wrk's report.
std::pair<std::string, std::string> wrk_figures(const std::string& path) {
  std::ifstream f(path);
  std::string line, p99 = "?", rps = "?";
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string a, b;
    in >> a >> b;
    if (a == "99%") p99 = b;
    if (a == "Requests/sec:") rps = b;
  }
  return {p99, rps};
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 20, load = 1000, crashes = 20, http_clients = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--load")) load = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--crashes-per-s")) crashes = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--http-clients")) http_clients = std::stoi(argv[i + 1]);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, nullptr);  // inherited by the child before its thread waits
  log::init(log::Level::kError, log::Format::kJson);
  unsigned short port = 0;
  pid_t child = start_sim(load, crashes, http_clients > 0 ? 3 * seconds : seconds, port);

  auto dir =
      std::filesystem::temp_directory_path() / ("podmedic-bench-" + std::to_string(::getpid()));
  app::Config config;
  config.cluster.name = "bench";
  config.state.dir = dir.string();
  config.server.listen = "127.0.0.1:0";
  k8s::ClusterConnection conn;
  if (!k8s::parse_server_url("http://127.0.0.1:" + std::to_string(port), conn).ok()) return 1;
  net::io_context ioc;
  SystemClock clock;
  Sink sink;
  app::Pipeline pipeline(ioc, config, conn, sink, clock);
  std::vector<double> samples;
  pipeline.incident_metrics().latency_samples = [&](double s) { samples.push_back(s); };
  if (!pipeline.start().ok()) return 1;
  while (!pipeline.synced()) ioc.run_for(std::chrono::milliseconds(5));
  ioc.run_for(std::chrono::milliseconds(200));  // watches open
  auto events_before = [&] {
    return bench::family_total(pipeline.registry(), "podmedic_watch_events_total");
  };
  double e0 = events_before();
  kill(child, SIGUSR1);
  auto t0 = Steady::now();
  ioc.run_for(std::chrono::seconds(seconds));
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  double ingested = (events_before() - e0) / secs;
  std::size_t open = pipeline.tracker().open_count();
  struct HttpPhase {
    std::string route, p99, rps;
    double ingested = 0;
  };
  std::vector<HttpPhase> http_phases;
  for (const char* route : {"/metrics", "/api/incidents"}) {
    if (http_clients <= 0) break;
    std::string out = (dir / "wrk.txt").string();
    std::string url = "http://127.0.0.1:" + std::to_string(pipeline.http_port()) + route;
    double before = events_before();
    auto start = Steady::now();
    pid_t wrk = start_wrk(url, http_clients, seconds, out);
    if (wrk == 0) {
      std::fprintf(stderr, "cannot run wrk (apt-get install wrk)\n");
      break;
    }
    // Keep serving until wrk is done.
    int status = 0;
    while (waitpid(wrk, &status, WNOHANG) == 0) ioc.run_for(std::chrono::milliseconds(20));
    double s = std::chrono::duration<double>(Steady::now() - start).count();
    auto [p99, rps] = wrk_figures(out);
    http_phases.push_back({route, p99, rps, (events_before() - before) / s});
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);
  std::printf(
      "podmedic detection-latency benchmark: %d s, background %d events/s requested, %d "
      "crashes/s\n",
      seconds, load, crashes);
  std::printf(
      "  ingested %.0f watch events/s; %zu incidents opened, %zu announced at once (storm control "
      "holds\n"
      "  the rest for one digest); %zu latency samples\n",
      ingested, open, sink.opened, samples.size());
  std::printf(
      "  watch bytes received -> incident opened: p50 %.3f ms, p99 %.3f ms, max %.3f ms (goal p99 "
      "<= 2 ms)\n",
      percentile(samples, 0.50) * 1e3, percentile(samples, 0.99) * 1e3,
      percentile(samples, 1.0) * 1e3);
  for (const auto& h : http_phases) {
    std::printf(
        "  %d keep-alive clients on %s (wrk): p99 %s, %s requests/s; ingest %.0f events/s = "
        "%.2fx the baseline phase\n",
        http_clients, h.route.c_str(), h.p99.c_str(), h.rps.c_str(), h.ingested,
        ingested > 0 ? h.ingested / ingested : 0.0);
  }
  return 0;
}
