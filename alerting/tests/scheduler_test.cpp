// AsioScheduler on a real io_context: only delays of 0 (or hours, never reached), so the tests
// wait for nothing; "never runs" is checked after the waiting coroutine has finished.
#include <catch2/catch.hpp>

#include "alerting/scheduler.h"
#include "tests/support.h"

using namespace podmedic;
using namespace std::chrono_literals;

TEST_CASE("a scheduled call runs once, after the caller returns") {
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  alerting::AsioScheduler s(ioc, tasks);
  int runs = 0;
  auto id = s.after(0ms, [&] { ++runs; });
  CHECK(id != 0);
  CHECK(runs == 0);
  CHECK(s.pending() == 1);
  REQUIRE(test::run_until(ioc, [&] { return tasks.running() == 0; }));
  CHECK(runs == 1);
  CHECK(s.pending() == 0);
  s.cancel(id);  // ran already: nothing happens
  CHECK(runs == 1);
}

TEST_CASE("a cancelled call never runs, even when its timer has expired already") {
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  alerting::AsioScheduler s(ioc, tasks);
  int a = 0, b = 0, c = 0;
  alerting::Scheduler::Id idb = 0;
  // Both expire together: when the first runs, the second's expiry may be queued already.
  s.after(0ms, [&] {
    ++a;
    s.cancel(idb);
  });
  idb = s.after(0ms, [&] { ++b; });
  auto idc = s.after(1h, [&] { ++c; });
  s.cancel(idc);
  REQUIRE(test::run_until(ioc, [&] { return tasks.running() == 0; }));
  CHECK(a == 1);
  CHECK(b == 0);
  CHECK(c == 0);
  CHECK(s.pending() == 0);
}

TEST_CASE("stopping the task group cancels what is pending: it never runs") {
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  alerting::AsioScheduler s(ioc, tasks);
  int runs = 0;
  s.after(0ms, [&] { ++runs; });  // due, but not run yet
  s.after(1h, [&] { ++runs; });
  tasks.stop();
  CHECK(tasks.running() == 0);
  ioc.restart();
  ioc.poll();
  CHECK(runs == 0);
}

TEST_CASE("destroying the scheduler cancels what is pending") {
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  int runs = 0;
  {
    alerting::AsioScheduler s(ioc, tasks);
    s.after(0ms, [&] { ++runs; });
  }
  REQUIRE(test::run_until(ioc, [&] { return tasks.running() == 0; }));
  CHECK(runs == 0);
}
