// Diagnosis storm benchmark (run on demand; not a test): how many LLM calls a storm costs.
//
// 500 crash-looping pods across 5 Deployments for 30 simulated minutes, replayed through
// podmedic's real pipeline (client, watcher, detector, tracker, diagnoser) against the simulated
// API server, with a fake Ollama counting /api/chat calls. Replicas start failing over the first
// ten minutes and restart on the kubelet's back-off (10 s doubling to 5 min); each pod's logs
// carry its own name, timestamps and request ids; at minute 15 one Deployment rolls out (100
// new pod names, same crash); another recovers at minute 12 and crashes again at minute 20 (a
// new incident with the same fingerprint). Every opening and every pod joining an incident
// asks for a diagnosis, as the pipeline does. Goal: LLM calls = distinct fingerprints, cache hit
// ratio ≥ 95 %.
//
//   build/release/bench/diagnosis_bench [--pods-per-deployment 100] [--minutes 30]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>

#include "app/pipeline.h"
#include "core/log.h"
#include "sim/objects.h"
#include "sim/server.h"
#include "tests/fake_clock.h"
#include "tests/http_mock.h"

using namespace podmedic;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

struct Counter final : incidents::IncidentSink {
  std::size_t alerts = 0, followups = 0, resolved = 0;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    if (e.type == incidents::EventType::kOpened || e.type == incidents::EventType::kDigest)
      alerts += e.incidents.size();
    if (e.type == incidents::EventType::kDiagnosed) followups += e.incidents.size();
    if (e.type == incidents::EventType::kResolved) resolved += e.incidents.size();
  }
};

struct PodPlan {
  std::string deployment, name;
  int start_s;         // when it starts failing (simulated seconds)
  int next_crash_s;    // next restart
  int backoff_s = 10;  // kubelet back-off, doubling to 300
  int restarts = 0;
  bool healthy = true;
};

const char* kErrors[] = {
    "java.lang.OutOfMemoryError: Java heap space",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "Error: connect ECONNREFUSED 10.0.3.17:5432",
    "FATAL: password authentication failed for user \"app\"",
    "Traceback (most recent call last):\nKeyError: 'DATABASE_URL'",
};

}  // namespace

int main(int argc, char** argv) {
  int per_deployment = 100, minutes = 30;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--pods-per-deployment")) per_deployment = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--minutes")) minutes = std::atoi(argv[i + 1]);
  }
  log::init(log::Level::kError, log::Format::kText);
  auto dir =
      std::filesystem::temp_directory_path() / ("podmedic-diagbench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  int chats = 0;
  std::mutex mu;
  test::HttpMock ollama([&](const test::MockRequest& r) -> test::MockResponse {
    if (r.target == "/api/tags") return {200, R"({"models":[{"name":"mistral:latest"}]})", {}};
    {
      std::lock_guard lock(mu);
      ++chats;
    }
    std::this_thread::sleep_for(200ms);  // a (very) fast model
    return {
        200,
        R"({"model":"mistral","message":{"role":"assistant","content":"Likely cause: see the evidence."},"done":true,"done_reason":"stop"})",
        {}};
  });

  net::io_context ioc;
  sim::ServerOptions so;
  so.history_limit = 200000;
  sim::ApiServer server(ioc, so);
  server.listen();
  test::FakeClock clock;
  app::Config config;
  config.cluster.name = "bench";
  config.state.dir = dir.string();
  config.server.listen = "127.0.0.1:0";
  config.ollama.url = ollama.url("");
  config.diagnosis.wait_before_notify = 1s;
  config.detect.flap_hold_down = 0ms;  // a recurrence is a new incident (same fingerprint)
  config.detect.resolve_after = 5min;
  k8s::ClusterConnection conn;
  if (!k8s::parse_server_url(server.url(), conn).ok()) return 1;
  Counter sink;
  app::PipelineOptions po;
  po.tick = 5ms;
  app::Pipeline pipeline(ioc, config, conn, sink, clock, po);
  if (!pipeline.start().ok()) return 1;
  std::int64_t now = clock.unix_seconds();

  // The plan: 5 Deployments × N pods, all healthy at first.
  std::vector<PodPlan> plan;
  for (int d = 0; d < 5; ++d) {
    for (int i = 0; i < per_deployment; ++i) {
      sim::PodTemplate t;
      t.ns = "storm";
      t.deployment = "svc" + std::to_string(d);
      t.name = t.deployment + "-" + t.rs_hash + "-" + std::to_string(i);
      server.store().upsert(sim::Res::kPods, sim::make_pod(t, now));
      plan.push_back({t.deployment, t.name, (i * 600) / per_deployment, 0});
    }
  }
  auto settle = [&](std::chrono::milliseconds budget) {
    auto until = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < until) ioc.run_for(2ms);
  };
  while (!pipeline.synced()) ioc.run_for(5ms);

  auto t0 = std::chrono::steady_clock::now();
  auto crash = [&](PodPlan& p, int t) {
    auto pod = server.store().get(sim::Res::kPods, "storm", p.name);
    if (!pod) return;
    int d = p.deployment.back() - '0';
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(t * 2654435761ULL + p.restarts));
    std::string logs = "2026-11-24T10:" + std::to_string(10 + t / 60) + ":" +
                       std::to_string(10 + t % 50) + "Z starting " + p.name + " (attempt " +
                       std::to_string(p.restarts + 1) + ")\nrequest_id=" + hex +
                       " handling warmup\n" + kErrors[d] + "\n";
    server.set_logs("storm", p.name, "app", "", logs);
    int code = d == 0 ? 137 : 1;
    sim::set_crashloop(*pod, "app", code, d == 0 ? "OOMKilled" : "Error", ++now);
    server.store().upsert(sim::Res::kPods, *pod);
    ++p.restarts;
    p.healthy = false;
    p.next_crash_s = t + p.backoff_s;
    p.backoff_s = std::min(p.backoff_s * 2, 300);
  };
  auto heal = [&](PodPlan& p) {
    auto pod = server.store().get(sim::Res::kPods, "storm", p.name);
    if (!pod) return;
    sim::set_running(*pod, "app", ++now);
    server.store().upsert(sim::Res::kPods, *pod);
    p.healthy = true;
    p.next_crash_s = 1 << 30;
  };

  bool rolled = false, recovered = false, relapsed = false;
  for (int t = 0; t < minutes * 60; t += 10) {
    if (!rolled && t >= 15 * 60) {
      // svc1 rolls out: its pods are replaced by new ones (a new ReplicaSet), failing the same way.
      rolled = true;
      for (auto& p : plan) {
        if (p.deployment != "svc1") continue;
        server.store().remove(sim::Res::kPods, "storm", p.name);
        sim::PodTemplate tt;
        tt.ns = "storm";
        tt.deployment = "svc1";
        tt.rs_hash = "5f6e7d8c9b";
        tt.name = "svc1-" + tt.rs_hash + "-" + p.name.substr(p.name.rfind('-') + 1);
        server.store().upsert(sim::Res::kPods, sim::make_pod(tt, now));
        p.name = tt.name;
        p.backoff_s = 10;
        p.next_crash_s = t + 10;
      }
    }
    if (!recovered && t >= 12 * 60) {
      recovered = true;  // svc4 is fixed...
      for (auto& p : plan)
        if (p.deployment == "svc4") heal(p);
    }
    if (!relapsed && t >= 20 * 60) {
      relapsed = true;  // ...and breaks again the same way after it resolved
      for (auto& p : plan) {
        if (p.deployment == "svc4") {
          p.backoff_s = 10;
          p.next_crash_s = t;
        }
      }
    }
    for (auto& p : plan) {
      bool starts =
          p.restarts == 0 && t >= p.start_s && !(p.deployment == "svc4" && recovered && !relapsed);
      if (starts || t >= p.next_crash_s) crash(p, t);
    }
    clock.advance(10s);
    settle(30ms);
  }
  // Let the last diagnoses finish.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!pipeline.diagnoser().idle() && std::chrono::steady_clock::now() < deadline)
    ioc.run_for(5ms);
  settle(200ms);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::set<std::string> fingerprints;
  for (const auto* inc : pipeline.tracker().incidents()) fingerprints.insert(inc->fingerprint);
  const auto& st = pipeline.diagnoser().stats();
  std::size_t restarts = 0;
  for (const auto& p : plan) restarts += static_cast<std::size_t>(p.restarts);
  double served = static_cast<double>(st.cache_hits + st.coalesced);
  double answered = served + static_cast<double>(st.llm_calls);
  double hit_ratio = answered > 0 ? served / answered : 0;
  std::printf("diagnosis storm: %d pods in 5 Deployments, %d simulated minutes, %zu crashes\n",
              5 * per_deployment, minutes, restarts);
  std::printf(
      "  incidents: %zu (%zu distinct fingerprints), alerts %zu, follow-ups %zu, resolved %zu\n",
      pipeline.tracker().incidents().size(), fingerprints.size(), sink.alerts, sink.followups,
      sink.resolved);
  std::printf(
      "  diagnosis requests %llu: LLM calls %llu (fake Ollama saw %d), cache hits %llu, "
      "joined in-flight calls %llu, dropped %llu, evidence errors %llu\n",
      static_cast<unsigned long long>(st.requests), static_cast<unsigned long long>(st.llm_calls),
      chats, static_cast<unsigned long long>(st.cache_hits),
      static_cast<unsigned long long>(st.coalesced), static_cast<unsigned long long>(st.dropped),
      static_cast<unsigned long long>(st.gather_errors));
  std::printf(
      "  LLM calls per distinct fingerprint: %.2f (goal 1.00); cache hit ratio %.1f%% (goal >= "
      "95%%)\n",
      fingerprints.empty()
          ? 0.0
          : static_cast<double>(st.llm_calls) / static_cast<double>(fingerprints.size()),
      100 * hit_ratio);
  std::printf("  replayed in %.1f s of wall time\n", wall);
  std::filesystem::remove_all(dir);
  bool ok = st.llm_calls == fingerprints.size() && hit_ratio >= 0.95;
  std::printf("%s\n", ok ? "GOAL MET" : "GOAL MISSED");
  return ok ? 0 : 1;
}
