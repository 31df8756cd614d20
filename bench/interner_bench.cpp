// Memory over time (run on demand; not a test): 100,000 short-lived pods with unique names,
// images, owners and quantities go through the real decoder and PodStore (ADDED → MODIFIED into
// a crash loop 30 s later → DELETED 60 s later, 20 pods/s on a simulated clock, beside 2,000
// long-lived pods). Prints RSS, heap in use and the interner's size and bytes every 25,000 pods,
// against a baseline taken in the same run after the long-lived pods are loaded, with the
// interner's periodic collection on (today) and off (the interner before, which never freed).
// Each variant runs in its own forked process so their RSS figures are independent.
// With collection on, the interner holds the live pods' strings plus the garbage of at most two
// periods (12,000 pods at 20/s with the default 5 min), so it plateaus; rows differ by where the
// checkpoint falls between two collections. With it off, it grows with every pod ever seen.
//
//   build/release/bench/interner_bench [--pods 100000] [--steady 2000]
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/proc_stats.h"
#include "core/parse.h"
#include "sim/objects.h"
#include "watcher/event_store.h"
#include "watcher/pod_store.h"

using namespace podmedic;
using podmedic::bench::rss_kib;

namespace {

constexpr int kCheckpoints = 4;

struct Figures {
  long rss_kib = 0;
  std::size_t heap = 0;  // malloc'd bytes in use
  std::size_t symbols = 0;
  std::size_t interner_bytes = 0;
  std::size_t pods = 0;
};

struct Run {
  Figures base;
  Figures at[kCheckpoints];
  std::uint64_t collections = 0;
  double seconds = 0;
};

Figures measure(const Interner& in, const watcher::PodStore& pods) {
  malloc_trim(0);
  return {rss_kib(), mallinfo2().uordblks, in.size(), in.bytes(), pods.size()};
}

std::string watch_line(const char* type, const nlohmann::json& pod) {
  std::string s = std::string(R"({"type":")") + type + R"(","object":)" + parse::dump(pod) + "}";
  s.reserve(s.size() + k8s::kJsonPadding);
  return s;
}

void apply_line(watcher::PodStore& store, const std::string& line) {
  if (!store.apply_watch_line(line, line.capacity()).ok()) std::abort();
}

nlohmann::json steady_pod(int i, std::int64_t now) {
  sim::PodTemplate t;
  t.ns = "ns-" + std::to_string(i % 20);
  t.deployment = "svc-" + std::to_string(i % 200);
  t.name = t.deployment + "-5d8f7c6b9a-" + std::to_string(10000 + i);
  t.image = "registry.example.com/" + t.deployment + ":1.0." + std::to_string(i % 200);
  t.node = "node-" + std::to_string(i % 50);
  t.extra_env = 4;
  t.managed_field_entries = 1;
  return sim::make_pod(t, now);
}

// A batch pod: everything that is interned is unique to it except namespace and node.
nlohmann::json transient_pod(int i, std::int64_t now) {
  sim::PodTemplate t;
  t.ns = "batch";
  t.deployment = "job-" + std::to_string(i);
  t.rs_hash = "h" + std::to_string(i);
  t.name = t.deployment + "-" + std::to_string(i);
  t.container = "step-" + std::to_string(i);
  t.image = "registry.example.com/batch/run-" + std::to_string(i) + ":sha-" +
            std::to_string(1'000'000 + i);
  t.node = "node-" + std::to_string(i % 50);
  t.memory_limit = std::to_string(64 + i % 4096) + "Mi";
  t.cpu_request = std::to_string(10 + i % 4096) + "m";
  t.extra_env = 4;
  t.managed_field_entries = 1;
  return sim::make_pod(t, now);
}

Run run_variant(bool collect, int transient, int steady) {
  Run out;
  Interner::Options o;
  if (!collect) o.period = std::chrono::hours(24 * 365 * 100);  // never, within the run
  Interner in(o);
  watcher::PodStore pods(in);
  watcher::EventStore events(in);
  const std::int64_t now = 1'790'000'000;
  auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  pods.received_at = t;
  for (int i = 0; i < steady; ++i) apply_line(pods, watch_line("ADDED", steady_pod(i, now)));
  out.base = measure(in, pods);

  // 20 pods/s: one step is 50 ms; a pod crashes 600 steps (30 s) and is deleted 1,200 steps
  // (60 s) after it was created.
  constexpr int kCrashAfter = 600, kDeleteAfter = 1200;
  const auto started = std::chrono::steady_clock::now();
  int checkpoint = 0;
  for (int step = 0; step < transient + kDeleteAfter; ++step) {
    t += std::chrono::milliseconds(50);
    pods.received_at = t;
    if (step < transient) apply_line(pods, watch_line("ADDED", transient_pod(step, now)));
    if (int i = step - kCrashAfter; i >= 0 && i < transient) {
      auto p = transient_pod(i, now);
      sim::set_crashloop(p, "step-" + std::to_string(i), 1, "Error", now + 30);
      apply_line(pods, watch_line("MODIFIED", p));
    }
    if (int i = step - kDeleteAfter; i >= 0) {
      auto p = transient_pod(i, now);
      sim::set_deleting(p, now + 60);
      apply_line(pods, watch_line("DELETED", p));
      if ((i + 1) % (transient / kCheckpoints) == 0 && checkpoint < kCheckpoints)
        out.at[checkpoint++] = measure(in, pods);
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.collections = in.collections();
  return out;
}

// Runs the variant in a child process and reads its figures back through a pipe.
Run forked(bool collect, int transient, int steady) {
  int p[2];
  if (pipe(p) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    Run r = run_variant(collect, transient, steady);
    if (write(p[1], &r, sizeof r) != sizeof r) _exit(1);
    _exit(0);
  }
  close(p[1]);
  Run r;
  if (read(p[0], &r, sizeof r) != sizeof r) std::abort();
  close(p[0]);
  waitpid(pid, nullptr, 0);
  return r;
}

void print(const char* name, const Run& r, int transient) {
  std::printf("\n%s (%llu collections, %.1f s)\n", name,
              static_cast<unsigned long long>(r.collections), r.seconds);
  std::printf("  %-22s %10s %12s %10s %14s %8s\n", "", "RSS MiB", "heap MiB", "symbols",
              "interner KiB", "pods");
  auto row = [](const std::string& label, const Figures& f) {
    std::printf("  %-22s %10.1f %12.1f %10zu %14.1f %8zu\n", label.c_str(), f.rss_kib / 1024.0,
                static_cast<double>(f.heap) / (1 << 20), f.symbols,
                static_cast<double>(f.interner_bytes) / 1024, f.pods);
  };
  row("baseline", r.base);
  for (int c = 0; c < kCheckpoints; ++c)
    row("after " + std::to_string((c + 1) * (transient / kCheckpoints)) + " pods", r.at[c]);
  const Figures& end = r.at[kCheckpoints - 1];
  std::printf(
      "  after/baseline: RSS x%.2f, heap x%.2f, interner bytes x%.2f (+%.1f KiB)\n",
      static_cast<double>(end.rss_kib) / static_cast<double>(r.base.rss_kib),
      static_cast<double>(end.heap) / static_cast<double>(r.base.heap),
      static_cast<double>(end.interner_bytes) / static_cast<double>(r.base.interner_bytes),
      (static_cast<double>(end.interner_bytes) - static_cast<double>(r.base.interner_bytes)) /
          1024);
}

}  // namespace

int main(int argc, char** argv) {
  int transient = 100'000, steady = 2'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--pods")) transient = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steady")) steady = std::atoi(argv[i + 1]);
  }
  if (transient < kCheckpoints) transient = kCheckpoints;
  std::printf(
      "interner_bench: %d transient pods (20/s, 60 s each, simulated clock) beside %d "
      "long-lived pods; collection period %lld s\n",
      transient, steady,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::seconds>(Interner::Options{}.period).count()));
  Run on = forked(true, transient, steady);
  Run off = forked(false, transient, steady);
  print("collection on (today)", on, transient);
  print("collection off (never freed, as before)", off, transient);
  const Figures& a = on.at[kCheckpoints - 1];
  const Figures& b = off.at[kCheckpoints - 1];
  std::printf(
      "\nat the end, on vs off: RSS %.1f vs %.1f MiB (x%.2f), interner %.1f vs %.1f KiB "
      "(x%.3f)\n",
      a.rss_kib / 1024.0, b.rss_kib / 1024.0,
      static_cast<double>(a.rss_kib) / static_cast<double>(b.rss_kib),
      static_cast<double>(a.interner_bytes) / 1024, static_cast<double>(b.interner_bytes) / 1024,
      static_cast<double>(a.interner_bytes) / static_cast<double>(b.interner_bytes));
  return 0;
}
