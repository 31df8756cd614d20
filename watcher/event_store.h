#pragma once
// EventStore: recent Warning events about pods, the evidence diagnosis cites. Bounded per pod
// (newest kept) and in total (oldest evicted first). Owned by the pipeline's io_context thread.
// A Root of its Interner, like PodStore: kept events' symbols stay alive, dropped ones are
// collected.
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/interner.h"
#include "k8s/decode.h"
#include "watcher/metrics.h"
#include "watcher/reflector.h"

namespace podmedic::watcher {

struct EventStoreLimits {
  std::size_t per_pod = 8;
  std::size_t total = 20000;
};

class EventStore final : public ReflectorSink, private Interner::Root {
 public:
  EventStore(Interner& interner, EventStoreLimits limits = {}, WatchMetrics* metrics = nullptr);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Newest first.
  std::vector<const k8s::EventView*> for_pod(std::string_view ns, std::string_view pod) const;
  std::size_t size() const { return events_.size(); }

  void begin_list() override;
  Result<k8s::ListMeta> apply_list_page(std::string_view body, std::size_t capacity) override;
  void end_list() override;
  Result<k8s::WatchHeader> apply_watch_line(std::string_view line, std::size_t capacity) override;

 private:
  void mark_symbols(const Interner::Marker& mark) const override;
  void upsert(const k8s::EventView& e);
  void erase(const std::string& key);
  std::string pod_key(const k8s::EventView& e) const;

  Interner& interner_;
  EventStoreLimits limits_;
  WatchMetrics* metrics_;
  k8s::Decoder decoder_;
  Sym warning_, pod_;                                                 // pinned
  std::unordered_map<std::string, k8s::EventView> events_;            // by ns/eventName
  std::unordered_map<std::string, std::vector<std::string>> by_pod_;  // ns/pod → event keys
  std::set<std::pair<std::int64_t, std::string>> by_age_;             // (last_seen, key)
  std::uint32_t generation_ = 0;
  k8s::EventView scratch_;
};

}  // namespace podmedic::watcher
