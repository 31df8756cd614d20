#include "core/task_group.h"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstdlib>

#include "core/log.h"

namespace podmedic {

namespace net = boost::asio;

void TaskGroup::spawn(std::string name, net::awaitable<void> task) {
  // Forget tasks that finished since the last spawn (their handlers have returned by now) —
  // but not while stopping: stop() has emitted on every signal, and Asio's co_spawn delivers
  // that emission through a posted handler that still points into the signal's memory.
  if (!stopping_) {
    for (auto done : finished_) signals_.erase(done);
    finished_.clear();
  }
  auto& signal = signals_.emplace_back();
  auto it = std::prev(signals_.end());
  ++running_;
  net::co_spawn(ioc_, std::move(task),
                net::bind_cancellation_slot(signal.slot(), [this, name, it](std::exception_ptr e) {
                  --running_;
                  finished_.push_back(it);
                  if (!e) return;
                  try {
                    std::rethrow_exception(e);
                  } catch (const boost::system::system_error& se) {
                    if (stopping_ && se.code() == net::error::operation_aborted) return;
                    log::error("app", "task failed (bug)", {{"task", name}, {"error", se.what()}});
                  } catch (const std::exception& ex) {
                    log::error("app", "task failed (bug)", {{"task", name}, {"error", ex.what()}});
                  }
                  std::abort();
                }));
  // Spawned while stopping (a coroutine being drained started another): cancel it at once, or
  // stop() would wait for it until its deadline.
  if (stopping_) signal.emit(net::cancellation_type::terminal);
}

void TaskGroup::stop() {
  if (running_ == 0) return;
  stopping_ = true;
  for (auto& s : signals_) s.emit(net::cancellation_type::terminal);
  if (ioc_.stopped()) ioc_.restart();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (running_ > 0 && std::chrono::steady_clock::now() < deadline) {
    ioc_.run_one_for(std::chrono::milliseconds(50));
  }
  if (running_ > 0) log::error("app", "tasks did not stop in time", {{"running", running_}});
}

}  // namespace podmedic
