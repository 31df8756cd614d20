// Incidents end to end through the simulated API server: the real pipeline (client, watcher,
// detector, tracker with a state dir) against a cluster whose replicas crash; then podmedic
// "restarts" (a new pipeline on the same state dir) and must not announce again.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include "app/pipeline.h"
#include "tests/fake_clock.h"
#include "tests/fake_llm.h"
#include "tests/http_mock.h"
#include "tests/integration/harness.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::test;
namespace fs = std::filesystem;

namespace {
struct Recorder final : incidents::IncidentSink {
  std::vector<std::string> lines;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    for (const auto* i : e.incidents)
      lines.push_back(std::string(incidents::to_string(e.type)) + " " + i->fingerprint);
  }
};

app::Config config_for(const std::string& state_dir) {
  app::Config c;
  c.cluster.name = "sim";
  c.state.dir = state_dir;
  c.server.listen = "127.0.0.1:0";
  c.watch.tuning = fast_options();
  return c;
}

k8s::ClusterConnection connect(sim::ApiServer& server) {
  k8s::ClusterConnection c;
  REQUIRE(k8s::parse_server_url(server.url(), c).ok());
  return c;
}
}  // namespace

TEST_CASE("replicas crashing through the sim open one incident and a restart does not repeat it") {
  // Removed last, after the pipelines and the writer (whose thread may still be writing there).
  test::ScratchDir scratch(fs::temp_directory_path() /
                           ("podmedic-incidents-" + std::to_string(::getpid())));
  const auto& dir = scratch.path;
  Harness h;
  test::FakeClock clock;
  for (int i = 0; i < 3; ++i) {
    sim::PodTemplate t;
    t.ns = "shop";
    t.deployment = "cart";
    t.name = "cart-7d9f8b6c5d-" + std::to_string(i);
    h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
  }
  GroupCommit writer;  // the state's writes off the pipeline thread, as in the daemon
  app::PipelineOptions fast;
  fast.tick = std::chrono::milliseconds(10);
  auto llm = std::make_shared<FakeLlm>();
  fast.llm = llm;  // in-process: never the default 127.0.0.1:11434
  fast.writer = &writer;
  {
    Recorder rec;
    app::Pipeline p(h.ioc, config_for(dir.string()), connect(h.server), rec, clock, fast);
    REQUIRE(p.start().ok());
    REQUIRE(run_until(h.ioc, [&] { return p.synced(); }));
    for (int i = 0; i < 3; ++i)
      h.crash("shop", "cart-7d9f8b6c5d-" + std::to_string(i), 137, "OOMKilled");
    REQUIRE(run_until(h.ioc, [&] {
      return p.tracker().incidents().size() == 1 && p.tracker().incidents()[0]->pods.size() == 3;
    }));
    for (int i = 0; i < 3; ++i)
      h.crash("shop", "cart-7d9f8b6c5d-" + std::to_string(i), 137, "OOMKilled");
    REQUIRE(run_until(h.ioc, [&] { return p.tracker().incidents()[0]->restarts == 2; }));
    REQUIRE(run_until(h.ioc, [&] { return !rec.lines.empty(); }));  // after evidence gathering
    CHECK(rec.lines ==
          std::vector<std::string>{"incident.opened sim/shop/Deployment/cart/app/OOMKilled"});
    // The alert waited for the injected LLM's explanation.
    CHECK(llm->prompts().size() == 1);
    CHECK(p.tracker().incidents()[0]->diagnosis == "The container runs out of memory.");
    double total = 0;
    for (auto& f : p.registry().Collect()) {
      if (f.name != "podmedic_incidents_total") continue;
      for (auto& m : f.metric) total += m.counter.value;  // all reasons (pre-created at zero)
    }
    CHECK(total == 1);
  }
  // podmedic restarts: a new pipeline, the same state dir, the same still-broken cluster.
  Recorder rec;
  app::Pipeline p(h.ioc, config_for(dir.string()), connect(h.server), rec, clock, fast);
  REQUIRE(p.start().ok());
  REQUIRE(run_until(h.ioc, [&] { return p.synced() && p.tracker().open_count() == 1; }));
  h.crash("shop", "cart-7d9f8b6c5d-0", 137, "OOMKilled");
  REQUIRE(run_until(h.ioc, [&] { return p.tracker().incidents()[0]->restarts == 3; }));
  CHECK(rec.lines.empty());
  // The pods are replaced by healthy ones: every pod of the incident is gone → resolved, once.
  for (int i = 0; i < 3; ++i)
    h.server.store().remove(sim::Res::kPods, "shop", "cart-7d9f8b6c5d-" + std::to_string(i));
  REQUIRE(run_until(h.ioc, [&] { return p.tracker().open_count() == 0; }));
  // Announced once the state recording it is written (group commit).
  REQUIRE(run_until(h.ioc, [&] { return !rec.lines.empty(); }));
  CHECK(rec.lines ==
        std::vector<std::string>{"incident.resolved sim/shop/Deployment/cart/app/OOMKilled"});
}

TEST_CASE("when evidence is not ready in time the alert goes out without it") {
  // Removed last, after the pipelines and the writer (whose thread may still be writing there).
  test::ScratchDir scratch(fs::temp_directory_path() /
                           ("podmedic-hold-" + std::to_string(::getpid())));
  const auto& dir = scratch.path;
  Harness h;
  test::FakeClock clock;
  sim::PodTemplate t;
  t.ns = "shop";
  t.deployment = "cart";
  t.name = "cart-7d9f8b6c5d-0";
  h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
  auto config = config_for(dir.string());
  config.diagnosis.wait_before_notify = std::chrono::milliseconds(1);
  // The API server answers log requests slowly: 429 with Retry-After 1 s, twice.
  h.server.inject(sim::Fault{"/api/v1/namespaces/shop/pods/cart-7d9f8b6c5d-0", sim::Fault::kAny,
                             429, 2, 1, true});
  GroupCommit writer;  // the state's writes off the pipeline thread, as in the daemon
  app::PipelineOptions fast;
  fast.tick = std::chrono::milliseconds(10);
  fast.llm = std::make_shared<FakeLlm>();
  fast.writer = &writer;
  Recorder rec;
  app::Pipeline p(h.ioc, config, connect(h.server), rec, clock, fast);
  REQUIRE(p.start().ok());
  REQUIRE(run_until(h.ioc, [&] { return p.synced(); }));
  h.crash("shop", "cart-7d9f8b6c5d-0", 137, "OOMKilled");
  REQUIRE(run_until(h.ioc, [&] { return !rec.lines.empty(); }));
  CHECK(rec.lines ==
        std::vector<std::string>{"incident.opened sim/shop/Deployment/cart/app/OOMKilled"});
  CHECK(p.tracker().incidents()[0]->evidence.empty());
}

namespace {
// Records what the notifiers would get: event type, fingerprint, and the diagnosis source.
struct DiagnosisRecorder final : incidents::IncidentSink {
  struct Line {
    std::string type, fingerprint, diagnosis, evidence;
  };
  std::vector<Line> lines;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    for (const auto* i : e.incidents)
      lines.push_back({incidents::to_string(e.type), i->fingerprint, i->diagnosis, i->evidence});
  }
};

// A fake Ollama answering /api/chat after `delay`; counts chat calls.
struct FakeOllama {
  std::atomic<int> chats{0};
  std::atomic<int> delay_ms{0};
  test::HttpMock mock{[this](const test::MockRequest& r) -> test::MockResponse {
    if (r.target == "/api/tags") return {200, R"({"models":[{"name":"mistral:latest"}]})", {}};
    ++chats;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    return {
        200,
        R"({"model":"mistral","message":{"role":"assistant","content":"The JVM heap is larger than the 256Mi limit."},"done":true,"done_reason":"stop"})",
        {{"Content-Type", "application/json"}}};
  }};
};

void add_cart_pods(Harness& h, int n) {
  for (int i = 0; i < n; ++i) {
    sim::PodTemplate t;
    t.ns = "shop";
    t.deployment = "cart";
    t.name = "cart-7d9f8b6c5d-" + std::to_string(i);
    h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
    h.server.set_logs("shop", t.name, "app", "",
                      "starting pod " + t.name + " at 10:0" + std::to_string(i) +
                          ":00\njava.lang.OutOfMemoryError: Java heap space\n");
  }
}
}  // namespace

// The pipeline against the sim with a fake Ollama answering after `delay_ms`.
struct DiagnosisWorld {
  fs::path dir;
  Harness h;
  test::FakeClock clock;
  FakeOllama ollama;
  DiagnosisRecorder rec;
  GroupCommit writer;  // outlives the pipeline
  std::unique_ptr<app::Pipeline> p;
  DiagnosisWorld(const std::string& tag, int pods, std::chrono::milliseconds wait, int delay_ms)
      : dir(fs::temp_directory_path() / ("podmedic-" + tag + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    ollama.delay_ms = delay_ms;
    add_cart_pods(h, pods);
    auto config = config_for(dir.string());
    config.ollama.url = ollama.mock.url("");
    config.diagnosis.wait_before_notify = wait;
    app::PipelineOptions fast;
    fast.tick = std::chrono::milliseconds(10);
    fast.writer = &writer;
    p = std::make_unique<app::Pipeline>(h.ioc, config, connect(h.server), rec, clock, fast);
    REQUIRE(p->start().ok());
    REQUIRE(run_until(h.ioc, [&] { return p->synced(); }));
  }
  ~DiagnosisWorld() {
    p.reset();
    fs::remove_all(dir);
  }
};

TEST_CASE("a quick diagnosis rides on the alert and replicas cost no extra LLM call") {
  DiagnosisWorld w("diag", 3, std::chrono::seconds(10), 0);
  auto& p = *w.p;
  auto& rec = w.rec;
  for (int i = 0; i < 3; ++i)
    w.h.crash("shop", "cart-7d9f8b6c5d-" + std::to_string(i), 137, "OOMKilled");
  REQUIRE(run_until(w.h.ioc, [&] { return !rec.lines.empty() && p.diagnoser().idle(); }));
  REQUIRE(rec.lines.size() == 1);
  CHECK(rec.lines[0].type == "incident.opened");
  CHECK(rec.lines[0].diagnosis == "The JVM heap is larger than the 256Mi limit.");
  CHECK(rec.lines[0].evidence.find("OutOfMemoryError") != std::string::npos);
  CHECK(w.ollama.chats == 1);
  CHECK(p.diagnoser().stats().requests == 3);  // the opening and two replicas joining
  CHECK(p.diagnoser().stats().cache_hits + p.diagnoser().stats().coalesced == 2);
  CHECK(p.tracker().incidents()[0]->diagnosis == rec.lines[0].diagnosis);
}

TEST_CASE("a slow diagnosis follows the alert as incident.diagnosed") {
  DiagnosisWorld w("slowdiag", 1, std::chrono::milliseconds(100), 600);
  auto& rec = w.rec;
  w.h.crash("shop", "cart-7d9f8b6c5d-0", 137, "OOMKilled");
  REQUIRE(run_until(w.h.ioc, [&] { return rec.lines.size() == 2; }));
  CHECK(rec.lines[0].type == "incident.opened");
  CHECK(rec.lines[0].diagnosis.empty());  // rules-based facts only
  CHECK(rec.lines[0].evidence.find("OutOfMemoryError") != std::string::npos);
  CHECK(rec.lines[1].type == "incident.diagnosed");
  CHECK(rec.lines[1].fingerprint == rec.lines[0].fingerprint);
  CHECK(rec.lines[1].diagnosis == "The JVM heap is larger than the 256Mi limit.");
}
