#include "core/interner.h"

#include <algorithm>
#include <cassert>

namespace podmedic {

Interner::Interner() : Interner(Options{}) {}

Interner::Interner(Options options) : options_(options) {
  intern("");
}

void Interner::Marker::operator()(Sym s) const {
  assert(s < in_.slots_.size() && !in_.slots_[s].free);  // a root holds a freed symbol: a bug
  in_.slots_[s].stamp = in_.epoch_;
}

Sym Interner::insert(std::string_view s, bool pinned) {
  Sym id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<Sym>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[id];
  slot.text.assign(s);
  slot.stamp = epoch_;
  slot.pinned = pinned;
  slot.free = false;
  index_.emplace(slot.text, id);
  bytes_ += cost(s);
  if (pinned) ++pinned_;
  return id;
}

Sym Interner::intern(std::string_view s) {
  if (auto it = index_.find(s); it != index_.end()) {
    Slot& slot = slots_[it->second];
    if (!slot.pinned) {
      slot.pinned = true;
      ++pinned_;
    }
    return it->second;
  }
  return insert(s, true);
}

Sym Interner::intern_collectable(std::string_view s) {
  if (auto it = index_.find(s); it != index_.end()) {
    slots_[it->second].stamp = epoch_;  // in use again: keep it through the next collection
    return it->second;
  }
  return insert(s, false);
}

Sym Interner::intern_collectable(std::string_view s, Sym& hint) {
  if (hint != 0 && hint < slots_.size()) {
    Slot& slot = slots_[hint];
    if (!slot.free && slot.text == s) {
      slot.stamp = epoch_;
      return hint;
    }
  }
  hint = intern_collectable(s);
  return hint;
}

Sym Interner::find(std::string_view s) const {
  auto it = index_.find(s);
  return it == index_.end() ? 0 : it->second;
}

void Interner::add_root(const Root* root) {
  assert(root && std::find(roots_.begin(), roots_.end(), root) == roots_.end());
  roots_.push_back(root);
}

void Interner::remove_root(const Root* root) {
  std::erase(roots_, root);
}

void Interner::maybe_collect(std::chrono::steady_clock::time_point now) {
  if (last_collect_ == std::chrono::steady_clock::time_point{}) {
    last_collect_ = now;  // the first call starts the clock
    return;
  }
  if (now - last_collect_ < options_.period) return;
  last_collect_ = now;
  collect();
}

std::size_t Interner::collect() {
  ++epoch_;
  const Marker mark(*this);
  for (const Root* root : roots_) root->mark_symbols(mark);
  std::size_t freed = 0;
  for (std::size_t i = 1; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    // Unmarked now, and not interned during the whole previous period.
    if (slot.pinned || slot.free || slot.stamp + 1 >= epoch_) continue;
    index_.erase(std::string_view(slot.text));
    bytes_ -= cost(slot.text);
    std::string().swap(slot.text);  // give the heap buffer back, not just the length
    slot.free = true;
    free_.push_back(static_cast<Sym>(i));
    ++freed;
  }
  // After a burst of churn the bucket array would stay at its high-water mark.
  if (index_.bucket_count() > 4 * index_.size() + 1024) index_.rehash(0);
  return freed;
}

}  // namespace podmedic
