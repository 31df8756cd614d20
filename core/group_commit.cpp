#include "core/group_commit.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>

namespace podmedic {

GroupCommit::GroupCommit() : thread_([this] { run(); }) {}

GroupCommit::~GroupCommit() {
  stop();
}

GroupCommit::SlotId GroupCommit::add(Slot slot) {
  std::lock_guard lock(mu_);
  if (slots_.size() >= kMaxSlots) std::abort();  // a wiring bug: files are a fixed set
  slots_.push_back(State{std::move(slot)});
  return slots_.size() - 1;
}

void GroupCommit::submit(SlotId id, Snapshot snap, std::uint64_t seq) {
  {
    std::lock_guard lock(mu_);
    assert(id < slots_.size());
    auto& s = slots_[id];
    if (s.removed) return;
    s.pending = std::move(snap);
    s.seq = seq;
  }
  cv_.notify_one();
}

void GroupCommit::touch(SlotId id) {
  {
    std::lock_guard lock(mu_);
    assert(id < slots_.size());
    if (slots_[id].removed) return;
    slots_[id].touched = true;
  }
  cv_.notify_one();
}

Result<Ok> GroupCommit::write_now(SlotId id, Snapshot snap) {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return !busy_; });
  busy_ = true;
  auto& s = slots_[id];
  Slot slot = s.slot;  // a copy: add() may grow slots_ while we write unlocked
  if (!snap && !s.touched && s.pending) snap = s.pending;
  s.pending.reset();
  s.touched = false;
  lock.unlock();
  if (!snap && slot.pull) snap = slot.pull();
  Result<Ok> r = snap ? write(slot, *snap) : Result<Ok>(Ok{});
  lock.lock();
  if (snap) ++slots_[id].writes;
  busy_ = false;
  lock.unlock();
  idle_cv_.notify_all();
  cv_.notify_one();  // the writer may have waited for us with work pending
  return r;
}

void GroupCommit::remove(SlotId id) {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return !busy_; });
  auto& s = slots_[id];
  s.removed = true;
  s.pending.reset();
  s.touched = false;
  s.slot.pull = nullptr;
  s.slot.done = nullptr;
}

void GroupCommit::set_writer(Writer w) {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return !busy_; });
  writer_ = std::move(w);
}

std::uint64_t GroupCommit::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

std::uint64_t GroupCommit::writes(SlotId id) const {
  std::lock_guard lock(mu_);
  return id < slots_.size() ? slots_[id].writes : 0;
}

void GroupCommit::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

Result<Ok> GroupCommit::write(const Slot& slot, const nlohmann::json& j) {
  return writer_ ? writer_(slot, j) : slot.write(j);
}

void GroupCommit::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    auto has_work = [&] {
      return std::any_of(slots_.begin(), slots_.end(),
                         [](const State& s) { return !s.removed && (s.pending || s.touched); });
    };
    cv_.wait(lock, [&] { return stopping_ || (!busy_ && has_work()); });
    if (!has_work()) return;  // stopping, nothing left
    if (busy_) {              // stopping while write_now runs: let it finish, then the rest
      idle_cv_.wait(lock, [&] { return !busy_; });
      continue;
    }
    // Take the batch: the latest snapshot (or a pull) of every changed slot, in write order.
    struct Item {
      SlotId id;
      Slot slot;
      Snapshot snap;
      std::uint64_t seq;
      bool pull;
    };
    std::vector<Item> batch;  // at most kMaxSlots
    for (SlotId id = 0; id < slots_.size(); ++id) {
      auto& s = slots_[id];
      if (s.removed || !(s.pending || s.touched)) continue;
      batch.push_back({id, s.slot, std::move(s.pending), s.seq, s.touched && !s.pending});
      s.pending.reset();
      s.touched = false;
    }
    std::stable_sort(batch.begin(), batch.end(),
                     [](const Item& a, const Item& b) { return a.slot.order < b.slot.order; });
    busy_ = true;
    lock.unlock();
    for (auto& item : batch) {
      if (item.pull) item.snap = item.slot.pull ? item.slot.pull() : nullptr;
      if (!item.snap) continue;
      Result<Ok> r = write(item.slot, *item.snap);
      {
        std::lock_guard count(mu_);
        ++slots_[item.id].writes;
      }
      if (item.slot.done) item.slot.done(item.seq, r);
    }
    lock.lock();
    busy_ = false;
    ++batches_;
    idle_cv_.notify_all();
  }
}

}  // namespace podmedic
