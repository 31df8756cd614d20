// Watch-path benchmark (run on demand; not a test). Replays a realistic corpus of pod watch
// events (4-20 KB pods with managedFields) through podmedic's path — selective decode, compact
// store apply and rule evaluation — and, on the same bytes in the same run, two baselines: a
// plain nlohmann::json::parse per event and a raw simdjson on-demand pass. Then measures memory
// per 10,000 tracked pods and a 50,000-pod initial sync from the simulator (a separate process)
// with peak memory against steady state.
//
//   build/release/bench/watch_bench [--pods-sync 50000] [--corpus 10000] [--rounds 5]
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <simdjson.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "bench/proc_stats.h"
#include "k8s/client.h"
#include "rules/detect.h"
#include "sim/objects.h"
#include "sim/server.h"
#include "watcher/pod_store.h"
#include "watcher/reflector.h"

using namespace podmedic;
using podmedic::bench::hwm_kib;
using podmedic::bench::reset_hwm;
using podmedic::bench::rss_kib;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::size_t heap_bytes() {
  return mallinfo2().uordblks;
}

struct Corpus {
  std::vector<std::string> lines;  // each followed by kJsonPadding spare capacity
  std::size_t bytes = 0;
};

// Distinct pods of the given target size, half of them failing the way real pods fail.
Corpus make_corpus(std::size_t count, int extra_env, int managed) {
  Corpus c;
  c.lines.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    sim::PodTemplate t;
    t.ns = "ns-" + std::to_string(i % 50);
    t.deployment = "app-" + std::to_string(i % 400);
    t.rs_hash = "5d8f7c6b9a";
    t.name = t.deployment + "-" + t.rs_hash + "-" + std::to_string(100000 + i);
    t.extra_env = extra_env;
    t.managed_field_entries = managed;
    t.image =
        "registry.example.com/team-" + std::to_string(i % 20) + "/svc:1." + std::to_string(i % 7);
    auto pod = sim::make_pod(t, 1'790'000'000);
    pod["metadata"]["uid"] = "0b4c1f43-6f1e-4b7e-9a55-" + std::to_string(100000000000 + i);
    pod["metadata"]["resourceVersion"] = std::to_string(5000 + i);
    if (i % 4 == 1) sim::set_crashloop(pod, "app", 137, "OOMKilled", 1'790'000'100);
    if (i % 4 == 2)
      sim::set_waiting(pod, "app", "ImagePullBackOff", "Back-off pulling image \"x\"");
    // As Go's encoder writes it: "type" first, then "object".
    std::string line = "{\"type\":\"MODIFIED\",\"object\":" + pod.dump() + "}";
    c.bytes += line.size() + 1;
    line.reserve(line.size() + k8s::kJsonPadding);
    c.lines.push_back(std::move(line));
  }
  return c;
}

struct Rate {
  double events_per_s;
  double mb_per_s;
};

template <class F>
Rate measure(const Corpus& c, int rounds, F&& per_line) {
  // Warm-up round, then the timed rounds.
  for (const auto& l : c.lines) per_line(l);
  auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const auto& l : c.lines) per_line(l);
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double n = static_cast<double>(c.lines.size()) * rounds;
  return {n / secs, static_cast<double>(c.bytes) * rounds / secs / 1e6};
}

volatile std::size_t sink_counter = 0;

void throughput(const char* label, int extra_env, int managed, std::size_t count, int rounds) {
  auto corpus = make_corpus(count, extra_env, managed);
  std::printf("\n== %s: %zu distinct pods, %.1f KB average, %d rounds, 1 core ==\n", label, count,
              static_cast<double>(corpus.bytes) / static_cast<double>(count) / 1024.0, rounds);

  auto nl = measure(corpus, rounds, [](const std::string& l) {
    auto j = json::parse(l, nullptr, false);
    sink_counter = sink_counter + j.size();
  });

  simdjson::ondemand::parser sp;
  auto sj = measure(corpus, rounds, [&](const std::string& l) {
    // The least any watcher must read: type, and the object's namespace/name/resourceVersion.
    simdjson::ondemand::document doc;
    if (sp.iterate(simdjson::padded_string_view(l.data(), l.size(), l.capacity())).get(doc)) return;
    std::string_view type, ns, name, rv;
    (void)doc["type"].get(type);
    auto meta = doc["object"]["metadata"];
    (void)meta["name"].get(name);
    (void)meta["namespace"].get(ns);
    (void)meta["resourceVersion"].get(rv);
    sink_counter = sink_counter + type.size() + ns.size() + name.size() + rv.size();
  });

  Interner interner;
  watcher::PodStore store(interner);
  rules::Detector detector(interner, rules::DetectSettings{});
  std::size_t findings = 0;
  store.set_listener([&](k8s::WatchType, const k8s::PodView* before, const k8s::PodView* after) {
    if (after) findings += detector.evaluate(before, *after).size();
  });
  auto ours = measure(corpus, rounds, [&](const std::string& l) {
    auto r = store.apply_watch_line(l, l.capacity());
    if (!r.ok()) std::abort();
  });

  std::printf("  %-44s %10.0f events/s %8.1f MB/s\n", "nlohmann::json::parse per event (baseline)",
              nl.events_per_s, nl.mb_per_s);
  std::printf("  %-44s %10.0f events/s %8.1f MB/s\n", "simdjson on-demand raw pass (baseline)",
              sj.events_per_s, sj.mb_per_s);
  std::printf("  %-44s %10.0f events/s %8.1f MB/s\n", "podmedic decode + store + rules",
              ours.events_per_s, ours.mb_per_s);
  std::printf(
      "  ratio podmedic/simdjson %.2fx (goal >= 0.30x), podmedic/nlohmann %.1fx; %zu pods stored, "
      "%zu findings\n",
      ours.events_per_s / sj.events_per_s, ours.events_per_s / nl.events_per_s, store.size(),
      findings);
}

void memory_per_pod(std::size_t count) {
  auto corpus = make_corpus(count, 12, 3);
  for (auto& l : corpus.lines) {  // ADDED, as the initial sync sees them
    l.replace(l.find("MODIFIED"), 8, "ADDED");
    l.reserve(l.size() + k8s::kJsonPadding);
  }
  malloc_trim(0);
  auto heap0 = heap_bytes();
  long rss0 = rss_kib();
  {
    Interner interner;
    watcher::PodStore store(interner);
    for (const auto& l : corpus.lines) {
      if (!store.apply_watch_line(l, l.capacity()).ok()) std::abort();
    }
    auto heap1 = heap_bytes();
    long rss1 = rss_kib();
    std::printf("\n== memory: %zu tracked pods ==\n", store.size());
    std::printf(
        "  heap %.1f MiB for %zu pods = %.0f bytes/pod (goal <= 1024); RSS delta %.1f MiB per "
        "10,000 pods\n",
        static_cast<double>(heap1 - heap0) / 1048576.0, store.size(),
        static_cast<double>(heap1 - heap0) / static_cast<double>(store.size()),
        static_cast<double>(rss1 - rss0) / 1024.0 * 10000.0 / static_cast<double>(store.size()));
    std::printf("  (client-go informers: 13-29 KiB/pod; a Python dict of pods: 123 KiB/pod)\n");
  }
}

// The simulator in a child process, so the parent's memory is the client's alone.
pid_t start_sim(std::size_t pods, unsigned short& port) {
  int p[2];
  if (pipe(p) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    boost::asio::io_context ioc;
    sim::ServerOptions so;
    so.history_limit = 1000;
    sim::ApiServer server(ioc, so);
    sim::PodTemplate t;
    t.ns = "bench";
    t.deployment = "svc";
    t.extra_env = 12;
    auto base = sim::make_pod(t, 1'790'000'000);
    for (std::size_t i = 0; i < pods; ++i) {
      auto pod = base;
      pod["metadata"]["namespace"] = "ns-" + std::to_string(i % 100);
      pod["metadata"]["name"] = "svc-5d8f7c6b9a-" + std::to_string(1000000 + i);
      server.store().upsert(sim::Res::kPods, std::move(pod));
    }
    unsigned short bound = server.listen("127.0.0.1", 0);
    if (write(p[1], &bound, sizeof bound) != sizeof bound) _exit(1);
    close(p[1]);
    ioc.run();
    _exit(0);
  }
  close(p[1]);
  if (read(p[0], &port, sizeof port) != sizeof port) std::abort();
  close(p[0]);
  return pid;
}

void initial_sync(std::size_t pods) {
  std::printf("\n== initial sync of %zu pods from the simulator (pages of 500) ==\n", pods);
  unsigned short port = 0;
  auto t_sim = Clock::now();
  pid_t child = start_sim(pods, port);
  std::printf("  simulator ready in %.1f s\n",
              std::chrono::duration<double>(Clock::now() - t_sim).count());
  boost::asio::io_context ioc;
  k8s::ClusterConnection c;
  if (!k8s::parse_server_url("http://127.0.0.1:" + std::to_string(port), c).ok()) std::abort();
  k8s::KubeClient client(ioc.get_executor(), c);
  prometheus::Registry registry;
  watcher::WatchMetrics metrics(registry);
  Interner interner;
  watcher::PodStore store(interner, &metrics);
  watcher::ReflectorOptions o;
  watcher::Reflector reflector(client, k8s::Resource::kPods, o, store, metrics);
  malloc_trim(0);
  long rss0 = rss_kib();
  reset_hwm();
  auto t0 = Clock::now();
  boost::asio::co_spawn(ioc, reflector.run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  while (!reflector.synced()) ioc.run_for(std::chrono::milliseconds(5));
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  long peak = hwm_kib();
  malloc_trim(0);
  long steady = rss_kib();
  std::printf("  synced %zu pods in %.2f s (%.0f pods/s)\n", store.size(), secs,
              static_cast<double>(store.size()) / secs);
  std::printf(
      "  RSS before %.1f MiB, steady %.1f MiB, peak %.1f MiB: peak - steady = %.1f MiB (goal <= "
      "32)\n",
      rss0 / 1024.0, steady / 1024.0, peak / 1024.0, (peak - steady) / 1024.0);
  std::printf("  steady store cost: %.0f bytes/pod of RSS\n",
              (steady - rss0) * 1024.0 / static_cast<double>(store.size()));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t sync_pods = 50000, corpus = 10000;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--pods-sync")) sync_pods = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--corpus")) corpus = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::stoi(argv[i + 1]);
  }
  std::printf("podmedic watch benchmark (simdjson kernel: %s)\n",
              simdjson::get_active_implementation()->name().c_str());
  throughput("small pods (~4 KB)", 2, 1, corpus, rounds);
  throughput("typical pods (~10 KB)", 50, 5, corpus, rounds);
  throughput("large pods (~20 KB)", 130, 9, corpus / 2, rounds);
  memory_per_pod(corpus);
  if (sync_pods > 0) initial_sync(sync_pods);
  return 0;
}
