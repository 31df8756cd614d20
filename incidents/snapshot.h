#pragma once
// IncidentSnapshot: the /api/incidents body (open incidents, newest first, then the kMaxResolved
// most recently resolved, each with its facts line), built on the pipeline thread from the
// tracker and served from the HTTP thread. soon() coalesces a burst of changes (a tick resolving
// a thousand incidents is a thousand events) into one rebuild right after the work at hand;
// refresh() rebuilds now. get() is safe from any thread: the body is immutable and swapped under
// a mutex.
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/task_group.h"
#include "incidents/facts.h"
#include "incidents/tracker.h"

namespace podmedic::incidents {

class IncidentSnapshot {
 public:
  static constexpr std::size_t kMaxResolved = 100;

  // `tasks` runs the coalesced rebuild (cancelled with it on shutdown).
  IncidentSnapshot(const IncidentTracker& tracker, const Facts& facts, TaskGroup& tasks)
      : tracker_(tracker), facts_(facts), tasks_(tasks) {}
  // Entries appended after the incidents (the diagnosed Alertmanager alerts); pipeline
  // thread, set once before the first refresh.
  void also_list(std::function<void(nlohmann::json& list)> f) { also_ = std::move(f); }
  void soon();                                     // pipeline thread
  void refresh();                                  // pipeline thread
  std::shared_ptr<const std::string> get() const;  // any thread; null until the first refresh

 private:
  const IncidentTracker& tracker_;
  const Facts& facts_;
  TaskGroup& tasks_;
  std::function<void(nlohmann::json&)> also_;
  bool queued_ = false;
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> body_;
};

}  // namespace podmedic::incidents
