// Memory over time: short-lived pods with unique names and images go through the real decoder and
// PodStore; once they are deleted the interner's collection returns its size and bytes to the
// baseline, while the symbols of pods and events still stored stay intact.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "core/parse.h"
#include "sim/objects.h"
#include "tests/support.h"
#include "watcher/event_store.h"
#include "watcher/pod_store.h"

using namespace podmedic;

namespace {

std::string line(const char* type, const nlohmann::json& object) {
  return std::string(R"({"type":")") + type + R"(","object":)" + parse::dump(object) + "}";
}

void apply_line(watcher::ReflectorSink& sink, const std::string& text) {
  test::Padded p(text);
  auto r = sink.apply_watch_line(p.view(), p.capacity());
  REQUIRE(r.ok());
}

// A batch pod whose every interned string except the namespace carries `id`.
nlohmann::json transient_pod(const std::string& id, std::int64_t now) {
  sim::PodTemplate t;
  t.ns = "batch";
  t.name = "job-" + id + "-x7k2q";
  t.deployment = "job-" + id;  // owner and template hash unique per pod
  t.rs_hash = "h" + id;
  t.container = "step-" + id;
  t.image = "registry.example.com/batch/job-" + id + ":build-" + id;
  t.node = "node-" + id;
  t.memory_limit = id + "Mi";
  t.cpu_request = id + "m";
  t.extra_env = 0;  // size is not the point here; unique strings are
  t.managed_field_entries = 0;
  return sim::make_pod(t, now);
}

// The three watch lines of a transient pod's life, with "@@" where its number goes: built once,
// since making 30,000 pods with nlohmann::json (under ASan) would be the slow part, not decoding.
struct Life {
  std::string added, crashed, deleted;
};
Life transient_life(std::int64_t now) {
  auto p = transient_pod("@@", now);
  Life l;
  l.added = line("ADDED", p);
  sim::set_crashloop(p, "step-@@", 1, "Error", now + 1);
  l.crashed = line("MODIFIED", p);
  sim::set_deleting(p, now + 2);
  l.deleted = line("DELETED", p);
  return l;
}

std::string fill(const std::string& tpl, int i) {
  const std::string id = std::to_string(i);
  std::string out;
  out.reserve(tpl.size() + 64);
  std::size_t pos = 0;
  for (std::size_t at; (at = tpl.find("@@", pos)) != std::string::npos; pos = at + 2)
    out.append(tpl, pos, at - pos).append(id);
  return out.append(tpl, pos);
}

// Every symbol of a stored view, as text: what must survive collections unchanged.
std::vector<std::string> texts(const Interner& in, const k8s::PodView& p) {
  std::vector<std::string> out;
  k8s::for_each_sym(p, [&](Sym s) { out.emplace_back(in.view(s)); });
  return out;
}

}  // namespace

TEST_CASE("10,000 transient pods through the decoder and PodStore leave the interner as it was") {
  const std::int64_t now = 1'790'000'000;
  Interner in;
  watcher::PodStore pods(in);
  watcher::EventStore events(in);

  // What stays: one long-lived pod in a crash loop and a warning event about it.
  sim::PodTemplate keep;
  keep.ns = "shop";
  keep.name = "cart-7d9f8b6c5d-a";
  keep.deployment = "cart";
  keep.image = "registry.example.com/shop/cart:3.1.0";
  auto kept = sim::make_pod(keep, now);
  sim::set_crashloop(kept, "app", 137, "OOMKilled", now);
  apply_line(pods, line("ADDED", kept));
  apply_line(events,
             line("ADDED", sim::make_pod_event(kept, "app", "Warning", "BackOff",
                                               "Back-off restarting failed container", 3, now)));
  REQUIRE(events.size() == 1);
  const auto* stored = pods.find("shop", "cart-7d9f8b6c5d-a");
  REQUIRE(stored);
  const auto kept_texts = texts(in, *stored);
  REQUIRE(kept_texts.size() == 16);
  CHECK(std::count(kept_texts.begin(), kept_texts.end(), "OOMKilled") == 1);

  in.collect();
  in.collect();
  const auto base_size = in.size();
  const auto base_bytes = in.bytes();

  const Life life = transient_life(now);
  // Created, crashed and deleted in waves of 1,000, with collections in between (as the periodic
  // collection would run while they churn).
  std::size_t peak_size = 0;
  for (int wave = 0; wave < 10; ++wave) {
    for (int i = wave * 1000; i < (wave + 1) * 1000; ++i) {
      apply_line(pods, fill(life.added, i));
      apply_line(pods, fill(life.crashed, i));
    }
    in.collect();  // the wave is stored: nothing of it may go
    for (int i = wave * 1000; i < (wave + 1) * 1000; ++i) {
      const auto* p = pods.find("batch", "job-" + std::to_string(i) + "-x7k2q");
      REQUIRE(p);
      REQUIRE(p->containers.size() == 1);
      CHECK(in.view(p->containers[0].image) ==
            "registry.example.com/batch/job-" + std::to_string(i) + ":build-" + std::to_string(i));
    }
    peak_size = std::max(peak_size, in.size());
    for (int i = wave * 1000; i < (wave + 1) * 1000; ++i) apply_line(pods, fill(life.deleted, i));
    in.collect();
  }
  CHECK(pods.size() == 1);
  CHECK(peak_size > base_size + 4000);  // each wave really interned its unique strings
  in.collect();
  in.collect();
  // Back to the baseline: everything the transient pods interned is gone, and what they shared
  // with the stored pod and event was there before.
  CHECK(in.size() == base_size);
  CHECK(in.bytes() == base_bytes);
  // What is still stored reads exactly as before, though freed slots were reused meanwhile.
  stored = pods.find("shop", "cart-7d9f8b6c5d-a");
  REQUIRE(stored);
  CHECK(texts(in, *stored) == kept_texts);
  auto evs = events.for_pod("shop", "cart-7d9f8b6c5d-a");
  REQUIRE(evs.size() == 1);
  CHECK(in.view(evs[0]->reason) == "BackOff");
  CHECK(in.view(evs[0]->ns) == "shop");
  CHECK(in.view(evs[0]->involved_kind) == "Pod");
}

TEST_CASE("the stores start collections themselves, at most once per period") {
  Interner::Options o;
  o.period = std::chrono::seconds(60);
  Interner in(o);
  watcher::PodStore pods(in);
  const std::int64_t now = 1'790'000'000;
  const std::chrono::steady_clock::time_point t0{std::chrono::hours(1)};
  pods.received_at = t0;
  apply_line(pods, line("ADDED", transient_pod("1", now)));
  apply_line(pods, line("DELETED", transient_pod("1", now)));
  CHECK(in.collections() == 0);
  pods.received_at = t0 + std::chrono::seconds(61);
  apply_line(pods, line("ADDED", transient_pod("2", now)));
  CHECK(in.collections() == 1);
  pods.received_at = t0 + std::chrono::seconds(122);
  apply_line(pods, line("MODIFIED", transient_pod("2", now)));
  CHECK(in.collections() == 2);
  CHECK(in.find("registry.example.com/batch/job-1:build-1") == 0);
  CHECK(in.find("registry.example.com/batch/job-2:build-2") != 0);
}
