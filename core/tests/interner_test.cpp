// The Interner's life rules: pinned symbols never go, collectable ones go by the second
// collection after their last use unless a Root marks them, and freed slots are reused.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/interner.h"

using namespace podmedic;

namespace {

// A store-like root: marks whatever symbols it currently holds.
struct Holder final : Interner::Root {
  explicit Holder(Interner& in) : in_(in) { in_.add_root(this); }
  ~Holder() { in_.remove_root(this); }
  void mark_symbols(const Interner::Marker& mark) const override {
    for (Sym s : held) mark(s);
  }
  std::vector<Sym> held;
  Interner& in_;
};

}  // namespace

TEST_CASE("pinned symbols survive every collection, collectable ones go by the second") {
  Interner in;
  const auto base_size = in.size();
  const auto base_bytes = in.bytes();
  Sym pinned = in.intern("CrashLoopBackOff");
  Sym gone = in.intern_collectable("registry.example.com/batch/job-1:latest");
  CHECK(in.size() == base_size + 2);
  CHECK(in.bytes() > base_bytes);

  CHECK(in.collect() == 0);  // the first collection after a use keeps it (grace for holders)
  CHECK(in.view(gone) == "registry.example.com/batch/job-1:latest");
  CHECK(in.collect() == 1);
  CHECK(in.find("registry.example.com/batch/job-1:latest") == 0);
  CHECK(in.view(pinned) == "CrashLoopBackOff");
  CHECK(in.size() == base_size + 1);

  // Interning a collectable string again pins nothing, and a pinned one stays pinned.
  CHECK(in.intern_collectable("CrashLoopBackOff") == pinned);
  in.collect();
  in.collect();
  CHECK(in.view(pinned) == "CrashLoopBackOff");
  CHECK(in.pinned() == 2);  // "" and CrashLoopBackOff
}

TEST_CASE("a collectable symbol interned again later is pinned by intern()") {
  Interner in;
  Sym s = in.intern_collectable("OOMKilled");
  CHECK(in.intern("OOMKilled") == s);
  in.collect();
  in.collect();
  in.collect();
  CHECK(in.view(s) == "OOMKilled");
  CHECK(in.find("OOMKilled") == s);
}

TEST_CASE("roots keep their symbols; released ones are freed and their slots reused") {
  Interner in;
  Holder h(in);
  h.held.push_back(in.intern_collectable("node-1"));
  Sym transient = in.intern_collectable("job-7f3a");
  for (int i = 0; i < 5; ++i) in.collect();
  CHECK(in.view(h.held[0]) == "node-1");
  CHECK(in.find("job-7f3a") == 0);

  // The freed slot is handed out again before the table grows.
  const auto size_before = in.size();
  Sym reused = in.intern_collectable("job-8b41");
  CHECK(reused == transient);
  CHECK(in.view(reused) == "job-8b41");
  CHECK(in.size() == size_before + 1);

  // Released by the root: kept for one more collection, then freed.
  Sym node = h.held[0];
  h.held.clear();
  in.collect();
  CHECK(in.view(node) == "node-1");
  in.collect();
  CHECK(in.find("node-1") == 0);
}

TEST_CASE("a use between collections extends a collectable symbol's life") {
  Interner in;
  Sym s = in.intern_collectable("shop");
  for (int i = 0; i < 4; ++i) {
    in.collect();
    CHECK(in.intern_collectable("shop") == s);  // e.g. each watch line names the namespace
  }
  CHECK(in.view(s) == "shop");
}

TEST_CASE("churn through 10,000 unique strings returns size and bytes to the baseline") {
  Interner in;
  Holder h(in);
  h.held.push_back(in.intern_collectable("kube-system"));
  in.collect();
  in.collect();
  const auto base_size = in.size();
  const auto base_bytes = in.bytes();
  for (int i = 0; i < 10'000; ++i) {
    in.intern_collectable("registry.example.com/batch/image-" + std::to_string(i) + ":v1");
    if (i % 1000 == 999) in.collect();
  }
  CHECK(in.size() > base_size);
  in.collect();
  in.collect();
  CHECK(in.size() == base_size);
  CHECK(in.bytes() == base_bytes);
  CHECK(in.view(h.held[0]) == "kube-system");
}

TEST_CASE("maybe_collect runs at most once per period") {
  Interner::Options o;
  o.period = std::chrono::seconds(60);
  Interner in(o);
  using std::chrono::seconds;
  const std::chrono::steady_clock::time_point t0{seconds(1000)};
  in.intern_collectable("a");
  in.maybe_collect(t0);  // starts the clock
  in.maybe_collect(t0 + seconds(59));
  CHECK(in.collections() == 0);
  in.maybe_collect(t0 + seconds(60));
  CHECK(in.collections() == 1);
  CHECK(in.find("a") != 0);
  in.maybe_collect(t0 + seconds(100));
  CHECK(in.collections() == 1);
  in.maybe_collect(t0 + seconds(120));
  CHECK(in.collections() == 2);
  CHECK(in.find("a") == 0);
}

TEST_CASE("a hint is compared before hashing, and a stale one only misses") {
  Interner in;
  Sym hint = 0;
  Sym shop = in.intern_collectable("shop", hint);
  CHECK(hint == shop);
  CHECK(in.view(shop) == "shop");
  CHECK(in.intern_collectable("shop", hint) == shop);  // the hit: same symbol, hint kept
  CHECK(hint == shop);
  // A hit extends the life like any intern: two collections later it is still there.
  in.collect();
  CHECK(in.intern_collectable("shop", hint) == shop);
  in.collect();
  CHECK(in.view(shop) == "shop");
  // Another value at the same place: the ordinary path, and the hint follows it.
  Sym web = in.intern_collectable("web", hint);
  CHECK(web != shop);
  CHECK(hint == web);
  CHECK(in.find("web") == web);
  // The hinted symbol is freed and its slot reused for other text: the hint misses, the answer
  // is the right symbol for the text asked.
  Sym stale = web;
  in.collect();
  in.collect();
  in.collect();
  REQUIRE(in.find("web") == 0);
  Sym other = in.intern_collectable("batch-7f3a");
  REQUIRE(other == stale);  // the slot came back
  Sym again = in.intern_collectable("web", hint);
  CHECK(again != stale);
  CHECK(in.view(again) == "web");
  CHECK(in.view(other) == "batch-7f3a");
  CHECK(in.find("web") == again);
  // A freed slot that is not reused: its (empty) text never matches, not even "".
  Sym freed_hint = in.intern_collectable("gone-soon");
  for (int i = 0; i < 3; ++i) in.collect();
  REQUIRE(in.find("gone-soon") == 0);
  Sym h2 = freed_hint;
  CHECK(in.intern_collectable("", h2) == 0);
  CHECK(in.view(h2) == "");
  Sym out_of_range = 1u << 30;
  CHECK(in.view(in.intern_collectable("shop", out_of_range)) == "shop");
}
