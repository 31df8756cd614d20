#pragma once
// GroupCommit: durable writes of whole-file snapshots, batched on their own thread, so the thread
// that produces state (the pipeline's) never waits on a disk.
//
// Design (docs/persistence.md):
// - A slot is one file (the incident state, a notifier's outbox). A producer hands over a full
//   snapshot of it, either pushed (submit(): built on the producer's thread, once per burst) or
//   pulled (touch(): the writer calls the slot's `pull` at batch time). Only the latest snapshot
//   of a slot is kept: each file is written at most once per batch, however many changes the
//   burst made.
// - One batch = every slot that changed since the last batch, written in ascending `order`
//   (outboxes before the incident state: a crash in between repeats an alert rather than losing
//   it). Each slot's `done` is called on the writer thread right after its write, with the result;
//   the producer hops back to its own thread from there if it needs to.
// - write_now() writes one slot synchronously on the caller's thread, after the batch in
//   progress (shutdown: what is pending must be on disk before the process exits).
// - The test seam: set_writer() replaces how a snapshot is written (a slow, blocked or failing
//   writer); by default a slot's own `write`.
// Bounds: at most kMaxSlots slots; at most one pending snapshot per slot (a newer one replaces
// it), so the writer's memory is bounded by the slots' snapshot sizes.
// Thread-safe: every public method may be called from any thread, except that `done`/`pull` run on
// the writer thread and must not call write_now()/remove() (they may call submit()/touch()).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace podmedic {

class GroupCommit {
 public:
  using Snapshot = std::shared_ptr<const nlohmann::json>;
  // Writes a snapshot durably (StateFile::save). Writer thread (or write_now's caller).
  using Write = std::function<Result<Ok>(const nlohmann::json&)>;
  // A pulled slot's latest snapshot; null when there is nothing to write. Writer thread.
  using Pull = std::function<Snapshot()>;
  // After the slot's write in a batch: the producer's sequence number of the snapshot written
  // (submit()'s `seq`; 0 for a pulled slot) and the write's result. Writer thread.
  using Done = std::function<void(std::uint64_t seq, const Result<Ok>&)>;
  struct Slot {
    std::string name;  // the file, for the test seam and logs ("incidents", "outbox-<notifier>")
    int order = 0;     // lower first within a batch
    Write write;
    Pull pull;  // required for touch(); unused for submit()
    Done done;  // optional
  };
  using SlotId = std::size_t;
  // The seam: how a batch writes one slot's snapshot (tests: slow, blocking, failing, recording).
  using Writer = std::function<Result<Ok>(const Slot&, const nlohmann::json&)>;

  static constexpr std::size_t kMaxSlots = 64;

  GroupCommit();
  ~GroupCommit();  // stop()
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Registers a file; any time. Aborts beyond kMaxSlots (a wiring bug).
  SlotId add(Slot slot);
  // The slot's snapshot `snap` (sequence number `seq`, handed back to done) replaces any pending
  // one; written in the next batch. Never blocks on a write.
  void submit(SlotId id, Snapshot snap, std::uint64_t seq);
  // The slot changed: the next batch pulls and writes its snapshot. Never blocks on a write.
  void touch(SlotId id);
  // Writes `snap` (or, when null, the pulled snapshot) of the slot now on this thread, after the
  // batch in progress; drops a pending submit()ed snapshot it supersedes. done is not called.
  Result<Ok> write_now(SlotId id, Snapshot snap);
  // No further pull/done calls for the slot once this returns (waits for the batch in progress).
  void remove(SlotId id);
  void set_writer(Writer w);
  // Batches written so far, and writes per slot (for tests and benchmarks).
  std::uint64_t batches() const;
  std::uint64_t writes(SlotId id) const;
  // Finishes the pending batch and joins the thread; later submits are written by write_now only.
  // Idempotent.
  void stop();

 private:
  struct State {
    Slot slot;
    Snapshot pending;  // submit()ed, not yet taken by a batch
    std::uint64_t seq = 0;
    bool touched = false;  // pull at the next batch
    bool removed = false;
    std::uint64_t writes = 0;
  };
  void run();
  Result<Ok> write(const Slot& slot, const nlohmann::json& j);

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work for the writer
  std::condition_variable idle_cv_;  // a batch ended
  std::vector<State> slots_;         // bounded by kMaxSlots
  Writer writer_;
  bool busy_ = false;  // a batch (or write_now) is writing
  bool stopping_ = false;
  std::uint64_t batches_ = 0;
  std::thread thread_;
};

}  // namespace podmedic
