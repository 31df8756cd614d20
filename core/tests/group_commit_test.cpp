// GroupCommit: latest snapshot wins, one write per slot per batch, write order within a batch,
// synchronous writes for shutdown. The disk is the writer seam, gated by the test.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <vector>

#include <thread>
#include "core/group_commit.h"

using namespace podmedic;
using json = nlohmann::json;

namespace {

// A deadline poll (core's tests do not pull in tests/support.h and its k8s headers).
template <class Pred>
bool eventually(Pred done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Writes only record; while closed they wait.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;
  int waiting = 0;
  std::vector<std::pair<std::string, json>> log;
  Result<Ok> write(const GroupCommit::Slot& s, const json& j) {
    std::unique_lock lock(mu);
    ++waiting;
    cv.wait(lock, [&] { return !closed; });
    --waiting;
    log.emplace_back(s.name, j);
    return Ok{};
  }
  void close(bool c) {
    {
      std::lock_guard lock(mu);
      closed = c;
    }
    cv.notify_all();
  }
  int waiters() {
    std::lock_guard lock(mu);
    return waiting;
  }
  std::vector<std::string> names() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (auto& [n, j] : log) out.push_back(n);
    return out;
  }
};

GroupCommit::Snapshot snap(int v) {
  return std::make_shared<const json>(json{{"v", v}});
}
auto no_write = [](const json&) { return Result<Ok>(Ok{}); };

}  // namespace

TEST_CASE("group commit: the latest snapshot wins, one write per batch") {
  Gate gate;
  GroupCommit gc;
  gc.set_writer([&](const GroupCommit::Slot& s, const json& j) { return gate.write(s, j); });
  std::mutex mu;
  std::vector<std::uint64_t> done;
  auto id = gc.add({"state", 1, no_write, nullptr, [&](std::uint64_t seq, const Result<Ok>& r) {
                      CHECK(r.ok());
                      std::lock_guard lock(mu);
                      done.push_back(seq);
                    }});
  gate.close(true);
  gc.submit(id, snap(1), 1);
  REQUIRE(eventually([&] { return gate.waiters() == 1; }));  // writing 1, slowly
  for (int i = 2; i <= 10; ++i) gc.submit(id, snap(i), static_cast<std::uint64_t>(i));
  gate.close(false);
  REQUIRE(eventually([&] {
    std::lock_guard lock(mu);
    return done.size() == 2;
  }));
  CHECK(done == std::vector<std::uint64_t>{1, 10});
  CHECK(gc.writes(id) == 2);
  std::lock_guard lock(gate.mu);
  CHECK(gate.log[1].second["v"] == 10);
}

TEST_CASE("group commit: a batch writes lower orders first; pulled slots are read at batch time") {
  Gate gate;
  GroupCommit gc;
  gc.set_writer([&](const GroupCommit::Slot& s, const json& j) { return gate.write(s, j); });
  auto busy = gc.add({"busy", 9, no_write});
  int pulled_value = 0;
  std::atomic<int> pulls{0};
  auto state = gc.add({"state", 1, no_write});
  auto outbox = gc.add({"outbox", 0, no_write, [&] {
                          ++pulls;
                          return snap(pulled_value);
                        }});
  gate.close(true);
  gc.submit(busy, snap(0), 0);
  REQUIRE(eventually([&] { return gate.waiters() == 1; }));
  gc.submit(state, snap(1), 1);
  gc.touch(outbox);
  gc.touch(outbox);
  pulled_value = 7;  // the writer is busy: it has not pulled yet
  CHECK(pulls == 0);
  gate.close(false);
  REQUIRE(eventually([&] { return gate.names().size() == 3; }));
  CHECK(gate.names() == std::vector<std::string>{"busy", "outbox", "state"});
  CHECK(pulls == 1);
  std::lock_guard lock(gate.mu);
  CHECK(gate.log[1].second["v"] == 7);
}

TEST_CASE("group commit: write_now writes on the caller's thread and supersedes what is pending") {
  Gate gate;
  GroupCommit gc;
  gc.set_writer([&](const GroupCommit::Slot& s, const json& j) { return gate.write(s, j); });
  std::atomic<int> done{0};
  auto busy = gc.add({"busy", 9, no_write});
  auto state =
      gc.add({"state", 1, no_write, nullptr, [&](std::uint64_t, const Result<Ok>&) { ++done; }});
  gate.close(true);
  gc.submit(busy, snap(0), 0);
  REQUIRE(eventually([&] { return gate.waiters() == 1; }));
  gc.submit(state, snap(1), 1);  // pending behind the busy batch
  gate.close(false);
  CHECK(gc.write_now(state, snap(2)).ok());  // after the batch in progress
  gc.stop();
  // Snapshot 1 was either written by the next batch before write_now got its turn, or dropped as
  // superseded; either way write_now's snapshot is the last one written, and done was called for
  // the batch's write only.
  auto names = gate.names();
  REQUIRE(names.size() >= 2);
  CHECK(names.back() == "state");
  CHECK(done == static_cast<int>(gc.writes(state)) - 1);
  std::lock_guard lock(gate.mu);
  CHECK(gate.log.back().second["v"] == 2);
}

TEST_CASE("group commit: a removed slot is neither written nor called back") {
  GroupCommit gc;
  std::atomic<int> writes{0};
  auto id = gc.add({"state", 1, [&](const json&) {
                      ++writes;
                      return Result<Ok>(Ok{});
                    }});
  gc.remove(id);
  gc.submit(id, snap(1), 1);
  gc.touch(id);
  gc.stop();
  CHECK(writes == 0);
  CHECK(gc.writes(id) == 0);
}
