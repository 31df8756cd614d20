// Scale benchmark (run on demand; not a test): podmedic's whole pipeline (both reflectors, the
// detector, the tracker, the diagnoser with the LLM off, the HTTP server) against a simulated
// cluster of 150,000 pods and 1,000,000 Event objects (5 % Warnings) served by a simulator in
// another process. Reports:
//   - time to synced (pods and Warning events listed, pages of 500),
//   - resident memory: steady after the sync, and the peak of a full relist (the simulator
//     expires every watch: ERROR 410) above that steady state,
//   - idle CPU (nothing changes; bookmarks only) in millicores,
//   - CPU at 1,000 pod updates per second in millicores (and the events actually ingested).
// Goals (issue 8): steady ≤ 1 KiB/pod + a fixed baseline, relist peak ≤ steady + 32 MiB, idle
// CPU ≤ 2 millicores.
//
//   build/release/bench/scale_bench [--pods 150000] [--events 1000000] [--load-seconds 20]
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

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

struct NullSink final : incidents::IncidentSink {
  void on_incident_event(const incidents::IncidentEvent&) override {}
};

std::string pod_name(std::size_t i) {
  return "svc" + std::to_string(i / 100 % 10) + "-7d9f8b6c5d-" + std::to_string(i);
}
std::string pod_ns(std::size_t i) {
  return "ns" + std::to_string(i / 1000);
}

// The simulator, in a child process. SIGUSR1: start `rate` pod updates per second;
// SIGUSR2: expire every watch (the client relists). Writes its port to the pipe when ready.
template <class Ready>
void serve_sim(std::size_t pods, std::size_t events, int rate, const sigset_t& set, Ready ready) {
  net::io_context ioc;
  sim::ServerOptions so;
  so.history_limit = 100000;
  so.bookmark_interval = std::chrono::seconds(60);
  sim::ApiServer server(ioc, so);
  const std::int64_t t0 = 1'790'000'000;
  std::vector<nlohmann::json> samples;  // a few pods to hang events on (names vary per event)
  for (std::size_t i = 0; i < pods; ++i) {
    sim::PodTemplate t;
    t.ns = pod_ns(i);
    t.deployment = "svc" + std::to_string(i / 100 % 10);
    t.name = pod_name(i);
    auto pod = sim::make_pod(t, t0);
    if (i < 64) samples.push_back(pod);
    server.store().upsert(sim::Res::kPods, std::move(pod));
  }
  for (std::size_t i = 0; i < events; ++i) {
    auto& pod = samples[i % samples.size()];
    pod["metadata"]["name"] = pod_name(i % pods);
    pod["metadata"]["namespace"] = pod_ns(i % pods);
    bool warning = i % 20 == 0;
    auto ev = sim::make_pod_event(pod, "app", warning ? "Warning" : "Normal",
                                  warning ? "BackOff" : "Pulled",
                                  warning ? "Back-off restarting failed container app"
                                          : "Container image already present on machine",
                                  1, t0);
    ev["metadata"]["name"] = pod_name(i % pods) + "." + std::to_string(i);
    server.store().upsert(sim::Res::kEvents, std::move(ev));
  }
  unsigned short bound = server.listen("127.0.0.1", 0);
  auto load = [&]() -> net::awaitable<void> {
    net::steady_timer timer(ioc);
    auto start = Steady::now();
    long sent = 0;
    for (;;) {
      timer.expires_after(std::chrono::milliseconds(5));
      auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
      co_await std::move(wait);
      double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
      while (sent < static_cast<long>(elapsed * rate)) {
        std::size_t i = static_cast<std::size_t>(sent) * 7919 % pods;
        auto pod = *server.store().get(sim::Res::kPods, pod_ns(i), pod_name(i));
        pod["metadata"]["annotations"]["bench/seq"] = std::to_string(sent);
        server.store().upsert(sim::Res::kPods, std::move(pod));
        ++sent;
      }
    }
  };
  ready(bound);
  std::thread([&] {
    for (;;) {
      int sig = 0;
      sigwait(&set, &sig);
      net::post(ioc, [&, sig] {
        if (sig == SIGUSR2) {
          server.expire_watches();
          return;
        }
        net::co_spawn(ioc, load(), [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
      });
    }
  }).detach();
  ioc.run();
}

pid_t start_sim(std::size_t pods, std::size_t events, int rate, unsigned short& port) {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, nullptr);  // inherited; the child waits for them on a thread
  return bench::fork_simulator([&](auto ready) { serve_sim(pods, events, rate, set, ready); },
                               port);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t pods = 150000, events = 1000000;
  int load_seconds = 20, idle_seconds = 20, rate = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--pods")) pods = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--events")) events = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--load-seconds")) load_seconds = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--idle-seconds")) idle_seconds = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rate")) rate = std::stoi(argv[i + 1]);
  }
  log::init(log::Level::kError, log::Format::kJson);
  auto t_sim = Steady::now();
  unsigned short port = 0;
  pid_t child = start_sim(pods, events, rate, port);
  std::printf("podmedic scale benchmark: %zu pods, %zu Event objects (5%% Warning)\n", pods,
              events);
  std::printf("  simulator built in %.1f s (another process)\n",
              std::chrono::duration<double>(Steady::now() - t_sim).count());

  auto dir =
      std::filesystem::temp_directory_path() / ("podmedic-scale-" + std::to_string(::getpid()));
  app::Config config;
  config.cluster.name = "scale";
  config.state.dir = dir.string();
  config.server.listen = "127.0.0.1:0";
  config.diagnosis.enabled = false;
  k8s::ClusterConnection conn;
  if (!k8s::parse_server_url("http://127.0.0.1:" + std::to_string(port), conn).ok()) return 1;
  net::io_context ioc;
  SystemClock clock;
  NullSink sink;
  malloc_trim(0);
  const long rss_before = bench::rss_kib();
  bench::reset_hwm();
  app::Pipeline pipeline(ioc, config, conn, sink, clock);
  if (!pipeline.start().ok()) return 1;
  auto t0 = Steady::now();
  while (!pipeline.synced()) ioc.run_for(std::chrono::milliseconds(5));
  const double sync_s = std::chrono::duration<double>(Steady::now() - t0).count();
  const long sync_peak = bench::hwm_kib();
  ioc.run_for(std::chrono::seconds(2));  // watches open, the first tick
  malloc_trim(0);
  const long steady = bench::rss_kib();
  std::printf("  synced %zu pods and %zu Warning events in %.1f s\n", pipeline.pods().size(),
              pipeline.events().size(), sync_s);
  std::printf(
      "  RSS: %.1f MiB before, %.1f MiB steady (%.0f bytes/pod incl. events), peak during "
      "the initial sync %.1f MiB\n",
      rss_before / 1024.0, steady / 1024.0,
      (steady - rss_before) * 1024.0 / static_cast<double>(pods), sync_peak / 1024.0);

  // Idle: nothing changes.
  double c0 = bench::cpu_seconds();
  auto i0 = Steady::now();
  ioc.run_for(std::chrono::seconds(idle_seconds));
  double idle_mcores = (bench::cpu_seconds() - c0) /
                       std::chrono::duration<double>(Steady::now() - i0).count() * 1000;
  std::printf("  idle CPU: %.2f millicores over %d s (goal <= 2)\n", idle_mcores, idle_seconds);

  // Load: `rate` pod updates per second.
  auto counted = [&] {
    return bench::family_total(pipeline.registry(), "podmedic_watch_events_total");
  };
  double e0 = counted();
  c0 = bench::cpu_seconds();
  auto l0 = Steady::now();
  kill(child, SIGUSR1);
  ioc.run_for(std::chrono::seconds(load_seconds));
  double secs = std::chrono::duration<double>(Steady::now() - l0).count();
  double ingested = (counted() - e0) / secs;
  double load_mcores = (bench::cpu_seconds() - c0) / secs * 1000;
  std::printf(
      "  at %d pod updates/s requested: ingested %.0f events/s using %.1f millicores "
      "(%.1f millicores per 1,000 events/s)\n",
      rate, ingested, load_mcores, ingested > 0 ? load_mcores / ingested * 1000 : 0.0);

  // A full relist while the updates continue: every watch gets ERROR 410.
  malloc_trim(0);
  const long before_relist = bench::rss_kib();
  bench::reset_hwm();
  auto relists = [&] { return bench::family_total(pipeline.registry(), "podmedic_relists_total"); };
  const double relists0 = relists();
  auto r0 = Steady::now();
  kill(child, SIGUSR2);
  while (relists() < relists0 + 2 && Steady::now() - r0 < std::chrono::seconds(120))
    ioc.run_for(std::chrono::milliseconds(20));
  while (!pipeline.synced() && Steady::now() - r0 < std::chrono::seconds(120))
    ioc.run_for(std::chrono::milliseconds(20));
  ioc.run_for(std::chrono::seconds(1));
  const double relist_s = std::chrono::duration<double>(Steady::now() - r0).count();
  const long relist_peak = bench::hwm_kib();
  std::printf(
      "  full relist after ERROR 410: %.1f s; RSS before %.1f MiB, peak %.1f MiB: peak - "
      "steady = %.1f MiB (goal <= 32)\n",
      relist_s, before_relist / 1024.0, relist_peak / 1024.0,
      (relist_peak - before_relist) / 1024.0);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);
  return 0;
}
