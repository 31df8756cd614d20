#pragma once
// FakeScheduler: the Scheduler seam (alerting/scheduler.h) on a FakeClock. Nothing runs by itself:
// advance() moves the clock and runs every call due by then, in order of due time (ties in the
// order they were scheduled), including calls scheduled by those calls; shutdown() is what
// stopping the TaskGroup is for AsioScheduler: nothing pending runs, ever.
#include <iterator>
#include <map>
#include <utility>

#include "alerting/scheduler.h"
#include "tests/fake_clock.h"

namespace podmedic::test {

class FakeScheduler final : public alerting::Scheduler {
 public:
  explicit FakeScheduler(FakeClock& clock) : clock_(clock) {}

  Id after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    const Id id = ++next_;
    if (!stopped_) pending_.emplace(id, Call{clock_.now() + delay, std::move(fn)});
    return id;
  }
  void cancel(Id id) override { pending_.erase(id); }

  // Runs what is due now (a delay of 0 included) without moving the clock.
  void run_due() {
    for (;;) {
      auto next = pending_.end();
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->second.due <= clock_.now() &&
            (next == pending_.end() || it->second.due < next->second.due))
          next = it;
      }
      if (next == pending_.end()) return;
      auto fn = std::move(next->second.fn);
      pending_.erase(next);
      fn();
    }
  }
  void advance(std::chrono::seconds d) {
    clock_.advance(d);
    run_due();
  }
  void shutdown() {
    stopped_ = true;
    pending_.clear();
  }
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Call {
    std::chrono::steady_clock::time_point due;
    std::function<void()> fn;
  };
  FakeClock& clock_;
  Id next_ = 0;
  std::map<Id, Call> pending_;  // by id: ids grow, so ties in due time run in scheduling order
  bool stopped_ = false;
};

}  // namespace podmedic::test
