// Persistence benchmark (run on demand; not a test): does a slow disk slow detection?
// A storm of N pods of distinct deployments crashes at once; each watch event is handed to the
// incident tracker on one pipeline thread (an io_context), as the watcher does, all stamped with
// the storm's arrival time. We report the detection latency (arrival → incident opened, the
// podmedic_detection_latency_seconds samples: p50/p99) and when the last announcement reached
// the sink, for four set-ups: the state written synchronously on the pipeline thread (the old
// path) or through the GroupCommit, each with an instant writer and a slow one (every state
// write takes --slow-ms longer). Ratios are against the synchronous, instant-writer run.
//
//   build/x/bench/persist_bench [--openings 1000] [--slow-ms 20] [--storm-threshold 8]
//                               [--repeat 5]
// Each set-up runs --repeat times; the medians are reported (a shared machine is noisy).
// The state dir is under /dev/shm when present (fsync free), so "instant" is the CPU cost only.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/clock.h"
#include "core/group_commit.h"
#include "core/log.h"
#include "incidents/tracker.h"
#include "k8s/decode.h"
#include "rules/detect.h"
#include "sim/objects.h"

using namespace podmedic;
namespace net = boost::asio;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

struct Sink final : incidents::IncidentSink {
  std::size_t announced = 0;
  Steady::time_point last{};
  void on_incident_event(const incidents::IncidentEvent& e) override {
    announced += e.incidents.size();
    last = Steady::now();
  }
};

struct Figures {
  double p50_ms, p99_ms, last_announcement_ms;
  std::size_t writes;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

Figures run(bool group, int slow_ms, int openings, std::size_t storm_threshold) {
  char tmpl[64];
  std::snprintf(tmpl, sizeof tmpl, "%s/podmedic-persist-XXXXXX",
                fs::exists("/dev/shm") ? "/dev/shm" : "/tmp");
  const fs::path dir = mkdtemp(tmpl);
  net::io_context ioc;
  SystemClock clock;
  GroupCommit writer;
  prometheus::Registry registry;
  incidents::IncidentMetrics metrics(registry);
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(openings));
  metrics.latency_samples = [&](double s) { latencies.push_back(s * 1000); };
  incidents::StateFile state(dir.string());
  (void)state.prepare();
  std::atomic<std::size_t> writes{0};
  // The slow disk: every state write takes slow_ms longer, on whichever thread writes it.
  state.set_writer([&](int fd, const char* data, std::size_t n) -> ssize_t {
    ++writes;
    if (slow_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
    return ::write(fd, data, n);
  });
  incidents::IncidentSettings s;
  s.storm_threshold = storm_threshold;
  Sink sink;
  incidents::IncidentTracker tracker(s, clock, sink, &state, &metrics);
  if (group)
    tracker.use_group_commit(writer,
                             [&ioc](std::function<void()> f) { net::post(ioc, std::move(f)); });
  tracker.load();

  // The storm's watch events, decoded before the clock starts.
  Interner in;
  k8s::Decoder dec(in);
  rules::Detector det(in, rules::DetectSettings{});
  std::vector<std::string> lines;
  for (int i = 0; i < openings; ++i) {
    sim::PodTemplate t;
    t.ns = "shop";
    t.deployment = "svc" + std::to_string(i);
    t.name = t.deployment + "-" + t.rs_hash + "-0";
    json pod = sim::make_pod(t, clock.unix_seconds());
    sim::set_crashloop(pod, "app", 1, "Error", clock.unix_seconds());
    std::string line = json{{"type", "MODIFIED"}, {"object", pod}}.dump();
    line.reserve(line.size() + k8s::kJsonPadding);
    lines.push_back(std::move(line));
  }
  std::vector<k8s::PodView> views(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    k8s::WatchHeader h;
    if (!dec.watch_pod(lines[i], lines[i].capacity(), h, views[i]).ok()) std::abort();
  }

  const auto arrived = Steady::now();
  for (auto& v : views) {
    net::post(ioc, [&, v = &v] { tracker.observe(*v, det.current(*v), in, arrived); });
  }
  // The pipeline thread: the events, then whatever the writer's completions post, until every
  // announcement that is not collecting for a digest is out.
  const std::size_t expect = std::min<std::size_t>(storm_threshold, openings);
  while (sink.announced < expect || tracker.held() > 0) {
    ioc.run_for(std::chrono::milliseconds(5));
    ioc.restart();
  }
  tracker.flush();
  Figures r{percentile(latencies, 0.5), percentile(latencies, 0.99),
            std::chrono::duration<double, std::milli>(sink.last - arrived).count(), 0};
  writer.stop();
  r.writes = writes;
  std::error_code ec;
  fs::remove_all(dir, ec);
  return r;
}

// The median of `repeat` runs, figure by figure.
Figures median_of(int repeat, bool group, int slow_ms, int openings, std::size_t storm_threshold) {
  std::vector<Figures> runs;
  for (int i = 0; i < repeat; ++i) runs.push_back(run(group, slow_ms, openings, storm_threshold));
  auto med = [&](double Figures::*f) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*f);
    return percentile(v, 0.5);
  };
  return {med(&Figures::p50_ms), med(&Figures::p99_ms), med(&Figures::last_announcement_ms),
          runs.front().writes};
}

}  // namespace

int main(int argc, char** argv) {
  int openings = 1000, slow_ms = 20, repeat = 5;
  std::size_t storm_threshold = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--openings") openings = std::atoi(argv[i + 1]);
    if (a == "--slow-ms") slow_ms = std::atoi(argv[i + 1]);
    if (a == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--storm-threshold")
      storm_threshold = static_cast<std::size_t>(std::atoi(argv[i + 1]));
  }
  log::init(log::Level::kWarn, log::Format::kText);
  std::printf(
      "storm of %d openings, storm threshold %zu, slow writer +%d ms per state write, median of "
      "%d runs\n\n",
      openings, storm_threshold, slow_ms, repeat);
  const Figures base = median_of(repeat, false, 0, openings, storm_threshold);
  std::printf("%-30s %10s %10s %9s %9s %16s %7s\n", "mode", "p50 ms", "p99 ms", "p50 ×", "p99 ×",
              "last alert ms", "writes");
  auto row = [&](const char* name, const Figures& r) {
    std::printf("%-30s %10.3f %10.3f %9.2f %9.2f %16.1f %7zu\n", name, r.p50_ms, r.p99_ms,
                r.p50_ms / base.p50_ms, r.p99_ms / base.p99_ms, r.last_announcement_ms, r.writes);
  };
  row("sync, instant writer", base);
  row("sync, slow writer", median_of(repeat, false, slow_ms, openings, storm_threshold));
  row("group commit, instant writer", median_of(repeat, true, 0, openings, storm_threshold));
  row("group commit, slow writer", median_of(repeat, true, slow_ms, openings, storm_threshold));
  std::printf(
      "\n× = detection latency against the synchronous instant-writer run of this process.\n");
  return 0;
}
