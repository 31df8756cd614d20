// LlmService and EvidenceSource against the simulated API server, with an in-process fake LLM.
#include <catch2/catch.hpp>

#include <optional>

#include "diagnosis/evidence_source.h"
#include "diagnosis/llm_service.h"
#include "tests/fake_llm.h"
#include "tests/integration/harness.h"

using namespace podmedic;
using namespace podmedic::diagnosis;
using namespace podmedic::test;

namespace {

// Runs `op` on h.ioc to completion.
template <class T>
T await(Harness& h, net::awaitable<T> op) {
  std::optional<T> got;
  net::co_spawn(h.ioc, std::move(op), [&](std::exception_ptr e, T r) {
    if (e) std::rethrow_exception(e);
    got.emplace(std::move(r));
  });
  REQUIRE(run_until(h.ioc, [&] { return got.has_value(); }));
  return std::move(*got);
}

// A crashing pod shop/cart-1 (Deployment cart) whose logs hold a password, and a healthy one.
void crashing_cart(Harness& h, const std::string& name = "cart-1") {
  sim::PodTemplate t;
  t.ns = "shop";
  t.deployment = "cart";
  t.name = name;
  h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
  h.crash("shop", name, 137, "OOMKilled");
  h.server.set_logs("shop", name, "app", "",
                    "connecting to redis://default:R3dis!Pass-77@cache:6379\n"
                    "java.lang.OutOfMemoryError: Java heap space\n");
}

struct World {
  Harness h;
  rules::Detector detector{h.interner, {}};
  Redactor redactor = std::move(Redactor::create().value());
  std::shared_ptr<FakeLlm> llm = std::make_shared<FakeLlm>();
  prometheus::Registry registry;
  std::unique_ptr<EvidenceSource> evidence;
  std::unique_ptr<LlmService> service;
  explicit World(EvidenceCache cache = {}, LlmServiceSettings s = {}) {
    evidence = std::make_unique<EvidenceSource>(*h.client, h.interner, detector, LogBudget{},
                                                std::move(cache));
    service = std::make_unique<LlmService>(llm, redactor, *evidence, registry, s);
  }
  double count(const std::string& outcome) {
    return counter_value(registry, "podmedic_diagnoses_total", {{"outcome", outcome}});
  }
  // LLM calls observed, of one outcome (empty: all outcomes).
  std::uint64_t llm_calls(const std::string& outcome = "") {
    std::uint64_t n = 0;
    for (auto& f : registry.Collect()) {
      if (f.name != "podmedic_llm_request_duration_seconds") continue;
      for (const auto& m : f.metric) {
        if (outcome.empty() || m.label.at(0).value == outcome) n += m.histogram.sample_count;
      }
    }
    return n;
  }
};

DiagnoseRequest request(const std::string& ns, const std::string& pod,
                        const std::string& question = "") {
  DiagnoseRequest r;
  r.ns = ns;
  r.pod = pod;
  r.question = question;
  return r;
}

}  // namespace

TEST_CASE("llm service: a diagnosis sends redacted evidence and returns a redacted answer") {
  World w;
  crashing_cart(w.h);
  // The model quotes the password it read (without its key): the answer's session masks it.
  w.llm->answer("The cache password R3dis!Pass-77 is fine; the heap is too small.");
  auto r = await(w.h, w.service->diagnose(request("shop", "cart-1", "why? pass R3dis!Pass-77")));
  REQUIRE(r.outcome == LlmOutcome::kOk);
  CHECK(r.asked);
  CHECK(r.model == "fake-model");
  CHECK(r.answer == "The cache password [REDACTED] is fine; the heap is too small.");
  CHECK(r.question == "why? pass [REDACTED]");
  CHECK(r.context.find("java.lang.OutOfMemoryError") != std::string::npos);
  CHECK(r.context.find("R3dis!Pass-77") == std::string::npos);
  REQUIRE(r.pods.size() == 1);
  CHECK(r.pods[0].name == "cart-1");
  REQUIRE(r.facts.size() == 1);
  CHECK(r.facts[0].rfind("cart-1: OOMKilled in container app", 0) == 0);
  auto prompts = w.llm->prompts();
  REQUIRE(prompts.size() == 1);
  CHECK(prompts[0].system == std::string(kDiagnoseSystemPrompt));
  CHECK(prompts[0].user.find("BEGIN EVIDENCE") != std::string::npos);
  CHECK(prompts[0].user.find("R3dis!Pass-77") == std::string::npos);
  CHECK(w.count("ok") == 1);
  CHECK(w.llm_calls() == 1);
  CHECK(w.llm_calls("ok") == 1);
}

TEST_CASE("llm service: an LLM error still returns the evidence and the facts") {
  World w;
  crashing_cart(w.h);
  w.llm->fail("llama runner process has terminated");
  auto r = await(w.h, w.service->diagnose(request("shop", "cart-1")));
  CHECK(r.outcome == LlmOutcome::kLlmError);
  CHECK(r.asked);
  CHECK(r.error == "llama runner process has terminated");
  CHECK(r.context.find("java.lang.OutOfMemoryError") != std::string::npos);
  REQUIRE(r.facts.size() == 1);
  CHECK(r.facts[0].find("OOMKilled in container app") != std::string::npos);
  CHECK(w.count("llm_error") == 1);
  CHECK(w.count("ok") == 0);
  CHECK(w.llm_calls() == 1);
  CHECK(w.llm_calls("error") == 1);  // apart from answers: the outcome label
  CHECK(w.llm_calls("ok") == 0);
  // ask and models fail the same way, as values.
  auto a = await(w.h, w.service->ask("what is a pod?"));
  CHECK(a.outcome == LlmOutcome::kLlmError);
  CHECK(a.error == "llama runner process has terminated");
  CHECK(w.count("llm_error") == 2);
  w.llm->fail("LLM server unreachable at http://127.0.0.1:1: Operation timed out after 1000 ms");
  auto slow = await(w.h, w.service->ask("what is a pod?"));
  CHECK(slow.outcome == LlmOutcome::kLlmError);
  CHECK(w.llm_calls("timeout") == 1);
  CHECK(w.llm_calls("cancelled") == 0);
  auto m = await(w.h, w.service->models());
  CHECK(m.outcome == LlmOutcome::kLlmError);
}

TEST_CASE("llm service: a missing pod and evidence only") {
  World w;
  crashing_cart(w.h);
  auto missing = await(w.h, w.service->diagnose(request("shop", "ghost")));
  CHECK(missing.outcome == LlmOutcome::kPodNotFound);
  CHECK(missing.failed_pod == "ghost");
  CHECK(missing.error == "HTTP 404 NotFound: pods \"ghost\" not found");
  CHECK(w.count("not_found") == 1);
  // --no-llm: the evidence and facts, no LLM call.
  auto req = request("shop", "cart-1");
  req.ask_llm = false;
  auto r = await(w.h, w.service->diagnose(req));
  CHECK(r.outcome == LlmOutcome::kOk);
  CHECK_FALSE(r.asked);
  CHECK(r.context.find("java.lang.OutOfMemoryError") != std::string::npos);
  CHECK(w.llm->prompts().empty());
  // A namespace without failing pods: the route still asks, the CLI stops.
  w.h.add_pod("calm", "web-1");
  auto calm = request("calm", "");
  calm.ask_without_failing_pods = false;
  auto none = await(w.h, w.service->diagnose(calm));
  CHECK(none.pods.empty());
  CHECK_FALSE(none.asked);
  CHECK(none.context == "No pod in namespace calm is failing right now.\n");
  auto asked = await(w.h, w.service->diagnose(request("calm", "")));
  CHECK(asked.asked);
  CHECK(w.llm->prompts().size() == 1);
  // A namespace that does not exist: not found, and no prompt about it.
  auto ghost = await(w.h, w.service->diagnose(request("no-such-ns", "")));
  CHECK(ghost.outcome == LlmOutcome::kNamespaceNotFound);
  CHECK(ghost.error == "namespace \"no-such-ns\" not found");
  CHECK_FALSE(ghost.asked);
  CHECK(w.llm->prompts().size() == 1);
}

TEST_CASE("llm service: a namespace's failing pods, at most kMaxPods, in one prompt") {
  World w;
  for (const char* name : {"cart-1", "cart-2", "cart-3"}) crashing_cart(w.h, name);
  w.h.add_pod("shop", "healthy");
  auto r = await(w.h, w.service->diagnose(request("shop", "")));
  REQUIRE(r.outcome == LlmOutcome::kOk);
  REQUIRE(r.pods.size() == LlmService::kMaxPods);
  CHECK(r.pods[0].name == "cart-1");
  CHECK(r.pods[1].name == "cart-2");
  CHECK(r.context.find("pod shop/cart-2") != std::string::npos);
  CHECK(r.context.find("pod shop/cart-3") == std::string::npos);
  CHECK(w.llm->prompts().size() == 1);
}

TEST_CASE("llm service: beyond kMaxRequests in flight a request is busy") {
  World w;
  w.llm->gate(true);
  std::vector<AskReply> done;
  for (int i = 0; i < LlmService::kMaxRequests; ++i) {
    net::co_spawn(w.h.ioc, w.service->ask("q" + std::to_string(i)),
                  [&](std::exception_ptr e, AskReply r) {
                    if (e) std::rethrow_exception(e);
                    done.push_back(std::move(r));
                  });
  }
  REQUIRE(run_until(w.h.ioc, [&] { return w.llm->entered() == LlmService::kMaxRequests; }));
  CHECK(await(w.h, w.service->ask("one more")).outcome == LlmOutcome::kBusy);
  CHECK(await(w.h, w.service->diagnose(request("shop", "x"))).outcome == LlmOutcome::kBusy);
  CHECK(await(w.h, w.service->models()).outcome == LlmOutcome::kBusy);
  CHECK(w.count("busy") == 3);
  w.llm->gate(false);
  REQUIRE(run_until(w.h.ioc, [&] { return done.size() == 2; }));
  for (const auto& r : done) {
    CHECK(r.outcome == LlmOutcome::kOk);
    CHECK(r.answer == "The container runs out of memory.");
  }
  CHECK(w.count("ok") == 2);
  // The lane is free again.
  CHECK(await(w.h, w.service->ask("again")).outcome == LlmOutcome::kOk);
}

TEST_CASE("llm service: an alert's key lines name the cause, not only the tail of the log") {
  World w;
  sim::PodTemplate t;
  t.ns = "shop";
  t.deployment = "cart";
  t.name = "cart-1";
  w.h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, w.h.now));
  w.h.crash("shop", "cart-1", 1, "Error");
  // The cause first, then a shutdown cascade far longer than the alert's 1,800 bytes.
  std::string log =
      "INFO starting cart v1.9.1\n"
      "ERROR FATAL: password authentication failed for user \"cart\"\n";
  for (int i = 0; i < 60; ++i)
    log += "level=error msg=\"worker " + std::to_string(i) + " stopped: context canceled\"\n";
  w.h.server.set_logs("shop", "cart-1", "app", "", log);
  auto g = await(w.h, w.service->gather("shop", "cart-1"));
  REQUIRE(g.ok());
  CHECK(g->excerpt.str().find("password authentication failed") != std::string::npos);
  CHECK(g->excerpt.size() <= 1800 + 400);  // the lines, plus at most three events
}

TEST_CASE("llm service: the incident path masks names and restores them in the answer") {
  World w({}, LlmServiceSettings{1, true});
  crashing_cart(w.h, "cart-7d9f8b6c5d-x1");
  w.llm->answer("pod-1 of workload-1 in namespace-1 needs more heap; R3dis!Pass-77 is unrelated.");
  auto g = await(w.h, w.service->gather("shop", "cart-7d9f8b6c5d-x1"));
  REQUIRE(g.ok());
  CHECK(g->excerpt.str().find("java.lang.OutOfMemoryError") != std::string::npos);
  CHECK(g->excerpt.str().find("R3dis!Pass-77") == std::string::npos);
  REQUIRE_FALSE(g->masks.empty());
  auto answer = await(w.h, w.service->explain(std::move(g.value())));
  REQUIRE(answer.ok());
  auto prompts = w.llm->prompts();
  REQUIRE(prompts.size() == 1);
  INFO(prompts[0].user);
  // Whole names only (a name inside a longer token, as in the kubelet's message, stays).
  CHECK(prompts[0].user.find("pod namespace-1/pod-1: phase") != std::string::npos);
  CHECK(prompts[0].user.find("shop/cart-7d9f8b6c5d-x1") == std::string::npos);
  CHECK(answer->text ==
        "cart-7d9f8b6c5d-x1 of cart in shop needs more heap; [REDACTED] is unrelated.");
  // The outcome is counted once, and its text sealed.
  DiagnosisOutcome o;
  o.outcome = "ok";
  o.answer = answer.value();
  CHECK(w.service->delivered(o).str() == answer->text);
  CHECK(w.count("ok") == 1);
  o.outcome = "cached";
  (void)w.service->delivered(o);
  CHECK(w.count("cached") == 1);
}

TEST_CASE("evidence source: a cached pod costs no GET, a pod missing from the cache does") {
  World cached_world;
  auto& h = cached_world.h;
  crashing_cart(h);
  h.start();
  REQUIRE(h.run_until_converged());
  EvidenceSource source(*h.client, h.interner, cached_world.detector, LogBudget{},
                        EvidenceCache{&h.pods, [](const std::string&) { return true; }});
  const auto gets = h.server.stats().gets, lists = h.server.stats().lists;
  auto ev = await(h, source.pod("shop", "cart-1", nullptr));
  REQUIRE(ev.ok());
  CHECK(h.server.stats().gets == gets);  // no GET of the pod (events are a list, logs are logs)
  CHECK(ev->workload == "cart");
  CHECK(ev->key_container == "app");
  CHECK(ev->text().find("OOMKilled in container app") != std::string::npos);
  CHECK(ev->text().find("java.lang.OutOfMemoryError") != std::string::npos);
  // The namespace listing from the cache: no list request.
  const auto lists_after_pod = h.server.stats().lists;
  // The pod's events and its namespace's ReplicaSets (what its rollout changed).
  CHECK(lists_after_pod == lists + 2);
  auto failing = await(h, source.failing_pods("shop", 5));
  REQUIRE(failing.ok());
  CHECK(failing.value() == std::vector<std::string>{"cart-1"});
  CHECK(h.server.stats().lists == lists_after_pod);

  // A pod the cache does not hold (not seen yet): a GET. A namespace it does not cover: a list.
  watcher::PodStore empty(h.interner);
  EvidenceSource cold(*h.client, h.interner, cached_world.detector, LogBudget{},
                      EvidenceCache{&empty, [](const std::string&) { return false; }});
  const auto gets_before = h.server.stats().gets;
  auto fresh = await(h, cold.pod("shop", "cart-1", nullptr));
  REQUIRE(fresh.ok());
  CHECK(h.server.stats().gets == gets_before + 1);
  CHECK(fresh->text() == ev->text());
  const auto lists_before = h.server.stats().lists;
  auto listed = await(h, cold.failing_pods("shop", 5));
  REQUIRE(listed.ok());
  CHECK(h.server.stats().lists == lists_before + 1);
  CHECK(listed.value() == std::vector<std::string>{"cart-1"});
}

TEST_CASE("evidence source without a cache: GETs the pod and lists the namespace in pages") {
  Harness h;
  for (int i = 0; i < 7; ++i) {
    h.add_pod("shop", "ok-" + std::to_string(i));
  }
  crashing_cart(h, "cart-1");
  crashing_cart(h, "zz-cart-2");
  rules::Detector det(h.interner, {});
  EvidenceSource source(*h.client, h.interner, det, LogBudget{});
  const auto gets = h.server.stats().gets;
  auto ev = await(h, source.pod("shop", "cart-1", nullptr));
  REQUIRE(ev.ok());
  CHECK(h.server.stats().gets == gets + 1);
  CHECK(ev->workload == "cart");
  // Pages of 3: 9 pods take 3 pages; both failing pods are found, in name order.
  auto lists = h.server.stats().lists;
  auto failing = await(h, failing_pods(*h.client, h.interner, det, "shop", 5, 3));
  REQUIRE(failing.ok());
  CHECK(failing.value() == std::vector<std::string>{"cart-1", "zz-cart-2"});
  CHECK(h.server.stats().lists == lists + 3);
  // It stops at the page that completes `max`.
  lists = h.server.stats().lists;
  auto first = await(h, failing_pods(*h.client, h.interner, det, "shop", 1, 3));
  REQUIRE(failing.ok());
  CHECK(first.value() == std::vector<std::string>{"cart-1"});
  CHECK(h.server.stats().lists == lists + 1);
  // The source's own listing (pages of kPageSize) finds the same.
  auto all = await(h, source.failing_pods("shop", 5));
  REQUIRE(all.ok());
  CHECK(all.value() == std::vector<std::string>{"cart-1", "zz-cart-2"});
}
