#include "alerting/scheduler.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace podmedic::alerting {

namespace net = boost::asio;

AsioScheduler::~AsioScheduler() {
  // A wait still queued finds its call cancelled and returns without touching this object.
  for (auto& [id, call] : pending_) {
    call->cancelled = true;
    call->timer.cancel();
  }
}

Scheduler::Id AsioScheduler::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  const Id id = ++next_;
  auto call = std::make_shared<Call>(ioc_);
  call->fn = std::move(fn);
  call->timer.expires_after(delay);
  pending_.emplace(id, call);
  tasks_.spawn("scheduled call", wait(id, std::move(call)));
  return id;
}

void AsioScheduler::cancel(Id id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  // The flag, not only the timer: a timer that has expired already has its completion queued
  // with success, and cancel() cannot take that back.
  it->second->cancelled = true;
  it->second->timer.cancel();
  pending_.erase(it);
}

net::awaitable<void> AsioScheduler::wait(Id id, std::shared_ptr<Call> call) {
  // Cancelled before this coroutine started: its timer had no wait to cancel then.
  if (call->cancelled) co_return;
  auto op = call->timer.async_wait(net::as_tuple(net::use_awaitable));
  co_await std::move(op);
  // Expired, or cancelled by cancel() or by the TaskGroup stopping (which may also come after
  // the expiry was queued: the cancellation state remembers it). Only an expiry runs fn.
  auto cs = co_await net::this_coro::cancellation_state;
  if (call->cancelled || cs.cancelled() != net::cancellation_type::none) co_return;
  pending_.erase(id);
  auto fn = std::move(call->fn);
  fn();
}

}  // namespace podmedic::alerting
