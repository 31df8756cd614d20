#pragma once
// Scheduler: "call fn after d, unless cancelled or shut down first" — the timer seam of the alert
// hold, so its logic runs on a fake clock in tests (tests/fake_scheduler.h) and on Asio timers in
// the daemon (AsioScheduler).
//
// Contract for every implementation: fn runs at most once, on the owner's thread, never from
// inside after() itself (a delay of 0 means "soon", after the caller returns); after cancel(id)
// or a shutdown it never runs. Not thread-safe: use from the owner's thread only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/task_group.h"

namespace podmedic::alerting {

class Scheduler {
 public:
  using Id = std::uint64_t;  // never 0
  virtual ~Scheduler() = default;
  virtual Id after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // fn of `id` will not run; nothing happens if it ran or was cancelled already.
  virtual void cancel(Id id) = 0;
};

// One Asio steady_timer per pending call, each awaited by a coroutine in `tasks`. Shutting down
// is stopping the TaskGroup: the waits are cancelled and the calls never run (the alert hold
// relies on that: an alert held at shutdown stays pending for the next start). The io_context
// and the TaskGroup must outlive every pending call or be stopped first; destroying the
// scheduler cancels what is pending.
class AsioScheduler final : public Scheduler {
 public:
  AsioScheduler(boost::asio::io_context& ioc, TaskGroup& tasks) : ioc_(ioc), tasks_(tasks) {}
  ~AsioScheduler() override;
  AsioScheduler(const AsioScheduler&) = delete;
  AsioScheduler& operator=(const AsioScheduler&) = delete;

  Id after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel(Id id) override;
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Call {
    explicit Call(boost::asio::io_context& ioc) : timer(ioc) {}
    boost::asio::steady_timer timer;
    std::function<void()> fn;
    bool cancelled = false;
  };
  boost::asio::awaitable<void> wait(Id id, std::shared_ptr<Call> call);

  boost::asio::io_context& ioc_;
  TaskGroup& tasks_;
  Id next_ = 0;
  // The calls not yet run or cancelled; each leaves when it runs or is cancelled (bounded by
  // what the callers schedule: the alert hold keeps one per held alert).
  std::map<Id, std::shared_ptr<Call>> pending_;
};

}  // namespace podmedic::alerting
