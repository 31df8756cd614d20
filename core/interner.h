#pragma once
// Interner: maps repeated short strings (namespaces, images, reasons, quantities) to 32-bit symbols
// so that 150k compact pod records share one copy of each. Symbol 0 is the empty string. Not
// thread-safe: owned by the pipeline's I/O thread, like every store that holds its symbols.
//
// Two kinds of symbols:
//  - pinned (intern()): constants the program compares against (the Detector's reasons, "Warning").
//    Never freed, so a Sym kept in a member stays valid for the interner's life.
//  - collectable (intern_collectable()): what the decoder reads from the cluster (images, owner
//    names, nodes, ...). Freed by collect() once no registered Root marks it and it has not been
//    interned for a whole collection period; its slot is then reused through a free list.
//
// Why mark-and-sweep over roots rather than reference counts: the hot path (decoding a watch line)
// stays one hash lookup plus one stamp write per string, with no increment/decrement pairs to keep
// right at every place a store copies, swaps or drops a record (a missed increment would be a
// use-after-free). The cost moves to collect(): one pass over the live records (150k pods ≈ 2–3M
// marks, a few ms) once per period (default 5 min), off nobody's critical latency.
//
// Holders that are not Roots (a PodView decoded for diagnosis, findings computed from it) are
// safe for at least one full period after the strings were last interned: a collectable symbol is
// freed only by the second collection after its last intern_collectable(), never the first.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace podmedic {

using Sym = std::uint32_t;

class Interner {
 public:
  struct Options {
    // Minimum time between collections started by maybe_collect(); also the grace an unrooted
    // holder of a collectable symbol gets (between one and two periods).
    std::chrono::steady_clock::duration period = std::chrono::minutes(5);
  };

  // Passed to Root::mark_symbols during collect(); marks symbols still in use.
  class Marker {
   public:
    void operator()(Sym s) const;

   private:
    friend class Interner;
    explicit Marker(Interner& in) : in_(in) {}
    Interner& in_;
  };

  // Something that holds collectable symbols long-term (a store). Registered with add_root() for
  // as long as it holds them; must unregister (remove_root) before it is destroyed.
  class Root {
   public:
    virtual void mark_symbols(const Marker& mark) const = 0;

   protected:
    ~Root() = default;
  };

  Interner();
  explicit Interner(Options options);
  Interner(const Interner&) = delete;  // roots and views point into this object
  Interner& operator=(const Interner&) = delete;

  // A pinned symbol: never freed (an existing collectable symbol becomes pinned).
  Sym intern(std::string_view s);
  // A collectable symbol: lives while a Root marks it, or for a period after its last intern.
  Sym intern_collectable(std::string_view s);
  // The same, first comparing `s` with the text of `hint` (a symbol this call returned before at
  // the same place; 0 for none), which it then updates: a repeated value costs a string compare,
  // no hash. A hint freed by collect() since, or its slot reused for other text, simply misses.
  Sym intern_collectable(std::string_view s, Sym& hint);
  // Lookup without inserting; returns 0 (the empty string) when unknown. Does not extend a life.
  Sym find(std::string_view s) const;
  // `s` must be a symbol this interner returned and has not freed.
  std::string_view view(Sym s) const { return slots_[s].text; }

  void add_root(const Root* root);
  void remove_root(const Root* root);

  // Runs collect() when `now` is at least one period after the previous collection (the first
  // call only starts the clock). Cheap otherwise: stores call it after every applied line.
  void maybe_collect(std::chrono::steady_clock::time_point now);
  // Marks from every root and frees collectable symbols that are unmarked and were not interned
  // since before the previous collection. Returns how many were freed.
  std::size_t collect();

  std::size_t size() const { return slots_.size() - free_.size(); }  // live symbols, 0 included
  std::size_t bytes() const { return bytes_; }                       // their estimated heap use
  std::size_t pinned() const { return pinned_; }
  std::uint64_t collections() const { return epoch_ - 1; }

 private:
  struct Slot {
    std::string text;
    std::uint32_t stamp = 0;  // last epoch the symbol was interned or marked
    bool pinned = false;
    bool free = false;
  };
  Sym insert(std::string_view s, bool pinned);
  static std::size_t cost(std::string_view s) { return s.size() + sizeof(Slot) + 32; }

  Options options_;
  // deque: a slot's string never moves, so the index's views stay valid (also for short strings,
  // whose bytes live inside the std::string object).
  std::deque<Slot> slots_;
  std::vector<Sym> free_;  // freed slots, reused first; bounded by the slots ever used
  std::unordered_map<std::string_view, Sym> index_;
  std::vector<const Root*> roots_;  // a handful of stores
  std::size_t bytes_ = 0;
  std::size_t pinned_ = 0;
  std::uint32_t epoch_ = 1;
  std::chrono::steady_clock::time_point last_collect_{};
};

}  // namespace podmedic
