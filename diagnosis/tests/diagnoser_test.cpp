// The Diagnoser with fake evidence and a fake LLM: the cache and the joining of identical calls
// (a storm costs one call per distinct evidence), newest-first bounded queue, failures not cached.
#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "diagnosis/diagnoser.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::diagnosis;
namespace net = boost::asio;

namespace {

struct Harness {
  net::io_context ioc;
  TaskGroup tasks{ioc};
  int calls = 0;
  bool llm_fails = false;
  std::chrono::milliseconds llm_delay{20};
  std::vector<std::string> gathered;  // pods, in the order evidence was gathered
  std::vector<DiagnosisOutcome> delivered;
  std::string crash_line = "panic: runtime error: invalid memory address";
  std::unique_ptr<Diagnoser> d;

  explicit Harness(DiagnoserSettings s = {}) {
    d = std::make_unique<Diagnoser>(
        tasks, "mistral", s,
        [this](const std::string& ns,
               const std::string& pod) -> net::awaitable<Result<GatheredEvidence>> {
          gathered.push_back(pod);
          if (pod == "gone") co_return Error{"pod not found (404)"};
          std::string node = "node-" + std::string(pod.size() % 2 ? "east" : "west");
          co_return GatheredEvidence{
              "== Pod ==\n" + ns + "/" + pod + " on " + node + ", started 2026-11-24T10:0" +
                  std::to_string(pod.size() % 10) + ":00Z, container id 9f8e7d6c5b4a" +
                  std::to_string(pod.size()) + "\n== Logs ==\n" + crash_line + "\n",
              {pod, node},
              Redacted(),
              {}};
        },
        [this](GatheredEvidence ev) -> net::awaitable<Result<LlmAnswer>> {
          const std::string evidence = ev.text;
          ++calls;
          net::steady_timer t(co_await net::this_coro::executor, llm_delay);
          auto op = t.async_wait(net::as_tuple(net::use_awaitable));
          co_await std::move(op);
          if (llm_fails) co_return Error{"LLM server unreachable"};
          co_return LlmAnswer{"cause: nil pointer in " + evidence.substr(evidence.size() - 20),
                              "mistral", false};
        },
        [this](const DiagnosisOutcome& o) { delivered.push_back(o); });
  }
  bool settle() {
    return test::run_until(ioc, [&] { return d->idle(); });
  }
};

DiagnosisRequest req(std::string fp, std::string pod, bool opening = false) {
  return {std::move(fp), "shop", std::move(pod), opening};
}

}  // namespace

TEST_CASE("evidence hash ignores pod and node names digits and ids") {
  auto a =
      evidence_hash("shop/cart-7d9f-abcde on node-1 restarted 4 times at 10:00:01 id deadbeef99",
                    {"cart-7d9f-abcde"});
  auto b =
      evidence_hash("shop/cart-7d9f-xyz12 on node-7 restarted 12 times at 11:42:17 id cafebabe01",
                    {"cart-7d9f-xyz12"});
  CHECK(a == b);
  auto c = evidence_hash("shop/cart-7d9f-abcde on node-1 restarted 4 times: disk full",
                         {"cart-7d9f-abcde"});
  CHECK(a != c);
  // Words made of hex letters survive: "added" and "decade" are not ids.
  CHECK(evidence_hash("cache added", {}) != evidence_hash("cache decade", {}));
  // Uids of pods differ in every group.
  CHECK(evidence_hash("pod uid a3f2b1c4-beef-4d6e-9f00-123456789abc", {}) ==
        evidence_hash("pod uid 0c1d2e3f-cafe-41aa-8b9c-abcdef012345", {}));
}

TEST_CASE("a storm of identical crashes costs one LLM call") {
  Harness h;
  h.d->submit(req("fp-cart", "cart-1", true));
  for (int i = 2; i <= 50; ++i) h.d->submit(req("fp-cart", "cart-" + std::to_string(i)));
  REQUIRE(h.settle());
  CHECK(h.calls == 1);
  REQUIRE(h.delivered.size() == 50);
  int fresh = 0;
  for (const auto& o : h.delivered) {
    REQUIRE(o.answer.ok());
    CHECK(o.answer->text == h.delivered.front().answer->text);
    if (!o.cached()) ++fresh;
  }
  CHECK(fresh == 1);
  CHECK(h.d->stats().cache_hits + h.d->stats().coalesced == 49);

  // Later, the same crash again (the incident reopened): a cache hit, no call.
  h.d->submit(req("fp-cart", "cart-77", true));
  REQUIRE(h.settle());
  CHECK(h.calls == 1);
  CHECK(h.delivered.back().cached());
}

TEST_CASE("different evidence or another workload is another call") {
  Harness h;
  h.d->submit(req("fp-cart", "cart-1", true));
  REQUIRE(h.settle());
  h.crash_line = "java.lang.OutOfMemoryError: Java heap space";
  h.d->submit(req("fp-cart", "cart-2"));
  h.d->submit(req("fp-api", "api-1", true));
  REQUIRE(h.settle());
  CHECK(h.calls == 3);
}

TEST_CASE("the queue runs openings first and newest first and drops the oldest") {
  DiagnoserSettings s;
  s.queue_capacity = 3;
  s.gather_concurrency = 1;
  Harness h(s);
  h.d->submit(req("fp-a", "a-1", true));  // starts gathering at once
  h.d->submit(req("fp-b", "join-old"));
  h.d->submit(req("fp-b", "join-new"));
  h.d->submit(req("fp-c", "c-1", true));
  CHECK(h.d->queued() == 3);
  CHECK(h.d->submit(req("fp-d", "join-newest-but-full")));  // kept; join-old dropped
  REQUIRE(h.d->stats().dropped == 1);
  REQUIRE(h.delivered.size() == 1);
  CHECK(h.delivered[0].pod == "join-old");
  CHECK(std::string(h.delivered[0].outcome) == "dropped");
  CHECK_FALSE(h.delivered[0].answer.ok());
  REQUIRE(h.settle());
  REQUIRE(h.gathered.size() == 4);
  CHECK(h.gathered[0] == "a-1");
  CHECK(h.gathered[1] == "c-1");
  CHECK(h.gathered[2] == "join-newest-but-full");
  CHECK(h.gathered[3] == "join-new");
}

TEST_CASE("failed LLM answers and failed gathering are delivered and not cached") {
  Harness h;
  h.llm_fails = true;
  h.d->submit(req("fp-cart", "cart-1", true));
  REQUIRE(h.settle());
  REQUIRE(h.delivered.size() == 1);
  CHECK_FALSE(h.delivered[0].answer.ok());
  CHECK_FALSE(h.delivered[0].evidence.empty());
  h.llm_fails = false;
  h.d->submit(req("fp-cart", "cart-2"));
  REQUIRE(h.settle());
  CHECK(h.calls == 2);
  CHECK(h.delivered.back().answer.ok());
  CHECK(h.d->stats().llm_errors == 1);

  h.d->submit(req("fp-x", "gone", true));
  REQUIRE(h.settle());
  CHECK_FALSE(h.delivered.back().answer.ok());
  CHECK(h.delivered.back().answer.error().message.find("404") != std::string::npos);
  CHECK(h.d->stats().gather_errors == 1);
  CHECK(std::string(h.delivered.back().outcome) == "no_evidence");
}

TEST_CASE("with the LLM off only the evidence is gathered") {
  DiagnoserSettings s;
  s.ask_llm = false;
  Harness h(s);
  std::string evidence_seen;
  h.d->on_evidence(
      [&](const DiagnosisRequest&, const GatheredEvidence& ev) { evidence_seen = ev.text; });
  h.d->submit(req("fp-cart", "cart-1", true));
  REQUIRE(h.settle());
  CHECK(h.calls == 0);
  CHECK(evidence_seen.find("panic") != std::string::npos);
  REQUIRE(h.delivered.size() == 1);
  CHECK(std::string(h.delivered[0].outcome) == "disabled");
  CHECK_FALSE(h.delivered[0].answer.ok());
}
