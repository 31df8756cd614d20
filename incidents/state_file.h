#pragma once
// StateFile: a JSON state file under state.dir (the incidents, a notifier's outbox, Slack thread
// timestamps), written atomically (temp file, fsync, rename, fsync of the directory) so a crash
// leaves either the old or the new file, never half of one.
// - save() recreates state.dir (0700) when it was deleted under us, and on every failure (disk
//   full, quota, EMFILE, a read-only remount) removes its temp file: nothing `*.json.tmp` is left.
//   A failed save changes nothing on disk; the owner keeps its data dirty and saves again on its
//   next tick. Failures are counted on the counter given to count_errors() (state_write_errors()).
// - healthy()/last_error() say whether the last save succeeded, for /readyz.
// - A corrupt, truncated or wrong-typed file is reported and moved aside (<name>.corrupt-<unix>),
//   never fatal.
// Not thread-safe (one owner thread), except save(), healthy() and last_error(): a GroupCommit
// writer thread saves while the owner may save synchronously at shutdown or HA take-over (saves
// are serialized, so two never share the temp file).
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <nlohmann/json.hpp>

#include "core/result.h"

namespace podmedic::incidents {

class StateFile {
 public:
  // The seam for durability tests: writes up to n bytes to fd like ::write(2) (a short count or
  // -1 with errno set). The default is ::write.
  using WriteFn = std::function<ssize_t(int fd, const char* data, std::size_t n)>;

  explicit StateFile(std::string dir, std::string name = "incidents.json");
  // Creates the directory if needed (0700) and checks it is writable.
  Result<Ok> prepare();
  // nullopt when there is no state yet (first start) or it was corrupt (then moved aside and
  // `corrupt_note` says where).
  std::optional<nlohmann::json> load();
  // On failure the previous file is untouched and no temp file remains; the error names the path
  // and errno's text.
  Result<Ok> save(const nlohmann::json& state);
  // For callers whose own validation of a loaded file fails: moves the file aside like a corrupt
  // one, logs `why`, and sets corrupt_note.
  void set_aside(const std::string& why);
  const std::string& corrupt_note() const { return corrupt_note_; }
  std::string path() const { return dir_ + "/" + name_; }

  // True until a save fails, and again after the next one succeeds. Any thread.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  // The last save's error ("" when it succeeded). Any thread.
  std::string last_error() const {
    std::lock_guard lock(save_mu_);
    return last_error_;
  }
  void set_writer(WriteFn w) { write_ = std::move(w); }
  // Each failed save increments `c` (a state_write_errors() series; must outlive this).
  void count_errors(prometheus::Counter* c) { errors_ = c; }

 private:
  Result<Ok> write_file(const std::string& tmp, const std::string& text);
  Result<Ok> ensure_dir();
  std::string dir_, name_;
  std::string corrupt_note_;
  mutable std::mutex save_mu_;  // serializes save(); guards last_error_
  std::string last_error_;
  std::atomic<bool> healthy_{true};
  WriteFn write_;
  prometheus::Counter* errors_ = nullptr;
};

// podmedic_state_write_errors_total{file}: failed state writes, by file ("incidents", "outbox"
// and "slack_threads": a fixed set). Every owner registers through this one definition, so the
// family is merged on a shared registry (same name, same help).
prometheus::Counter& state_write_errors(prometheus::Registry& registry, const std::string& file);

}  // namespace podmedic::incidents
