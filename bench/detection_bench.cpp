// Detection-latency benchmark (run on demand; not a test). A simulator in a separate process
// serves 2,000 healthy pods and changes them at ~1,000 events/s in the background, while pods of
// distinct deployments crash (OOMKilled) at a steady rate. podmedic's real pipeline (client,
// watcher, detector, incident tracker with its state dir) watches it; we report the time from
// the watch bytes arriving to the incident being opened (p50/p99/max), and the background event
// rate actually ingested.
//
//   build/release/bench/detection_bench [--seconds 20] [--load 1000] [--crashes-per-s 20]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/pipeline.h"
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
pid_t start_sim(int load_per_s, int crashes_per_s, int seconds, unsigned short& port) {
  int p[2];
  if (pipe(p) != 0) std::abort();
  pid_t pid = fork();
  if (pid != 0) {
    close(p[1]);
    if (read(p[0], &port, sizeof port) != sizeof port) std::abort();
    close(p[0]);
    return pid;
  }
  close(p[0]);
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
  if (write(p[1], &bound, sizeof bound) != sizeof bound) _exit(1);
  close(p[1]);
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
  _exit(0);
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 20, load = 1000, crashes = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--load")) load = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--crashes-per-s")) crashes = std::stoi(argv[i + 1]);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, nullptr);  // inherited by the child before its thread waits
  log::init(log::Level::kError, log::Format::kJson);
  unsigned short port = 0;
  pid_t child = start_sim(load, crashes, seconds, port);

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
    double n = 0;
    for (auto& f : pipeline.registry().Collect()) {
      if (f.name != "podmedic_watch_events_total") continue;
      for (auto& m : f.metric) n += m.counter.value;
    }
    return n;
  };
  double e0 = events_before();
  kill(child, SIGUSR1);
  auto t0 = Steady::now();
  ioc.run_for(std::chrono::seconds(seconds));
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  double ingested = (events_before() - e0) / secs;
  std::size_t open = pipeline.tracker().open_count();
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
  return 0;
}
