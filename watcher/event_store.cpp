#include "watcher/event_store.h"

#include <algorithm>
#include <limits>

namespace podmedic::watcher {

EventStore::EventStore(Interner& interner, EventStoreLimits limits, WatchMetrics* metrics)
    : interner_(interner),
      limits_(limits),
      metrics_(metrics),
      decoder_(interner),
      warning_(interner.intern("Warning")),
      pod_(interner.intern("Pod")) {
  interner_.add_root(this);
}

EventStore::~EventStore() {
  interner_.remove_root(this);
}

void EventStore::mark_symbols(const Interner::Marker& mark) const {
  for (const auto& [key, e] : events_) k8s::for_each_sym(e, mark);
}

std::string EventStore::pod_key(const k8s::EventView& e) const {
  return std::string(interner_.view(e.ns)) + "/" + e.involved_name;
}

std::vector<const k8s::EventView*> EventStore::for_pod(std::string_view ns,
                                                       std::string_view pod) const {
  std::vector<const k8s::EventView*> out;
  auto it = by_pod_.find(std::string(ns) + "/" + std::string(pod));
  if (it == by_pod_.end()) return out;
  for (const auto& key : it->second) {
    if (auto e = events_.find(key); e != events_.end()) out.push_back(&e->second);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->last_seen > b->last_seen; });
  return out;
}

void EventStore::erase(const std::string& key) {
  auto it = events_.find(key);
  if (it == events_.end()) return;
  by_age_.erase({it->second.last_seen, key});
  auto pk = pod_key(it->second);
  if (auto p = by_pod_.find(pk); p != by_pod_.end()) {
    std::erase(p->second, key);
    if (p->second.empty()) by_pod_.erase(p);
  }
  events_.erase(it);
}

void EventStore::upsert(const k8s::EventView& e) {
  // Only Warning events about pods are evidence; everything else is dropped here. Without a name
  // an event could never be updated or deleted again.
  if (e.type != warning_ || e.involved_kind != pod_ || e.involved_name.empty() || e.name.empty())
    return;
  std::string key = std::string(interner_.view(e.ns)) + "/" + e.name;
  if (auto it = events_.find(key); it != events_.end()) {
    if (pod_key(it->second) != pod_key(e)) {
      // The same Event now names another pod (the server's word, however odd): re-file it so
      // by_pod_ never keeps a key under the old pod.
      erase(key);
    } else {
      by_age_.erase({it->second.last_seen, key});
      it->second = e;
      it->second.mark = generation_;
      by_age_.insert({e.last_seen, key});
      return;
    }
  }
  auto& stored = events_[key];
  stored = e;
  stored.mark = generation_;
  by_age_.insert({e.last_seen, key});
  auto& keys = by_pod_[pod_key(e)];
  keys.push_back(key);
  if (keys.size() > limits_.per_pod) {
    // Drop this pod's oldest event. Every key in by_pod_ is in events_ (upsert and erase keep
    // them in step); a missing one would sort first and be dropped, never dereferenced.
    auto last_seen = [&](const std::string& k) {
      auto found = events_.find(k);
      return found == events_.end() ? std::numeric_limits<std::int64_t>::min()
                                    : found->second.last_seen;
    };
    auto oldest = std::min_element(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
      return last_seen(a) < last_seen(b);
    });
    std::string victim = *oldest;
    if (events_.count(victim))
      erase(victim);
    else
      keys.erase(oldest);
  }
  while (events_.size() > limits_.total && !by_age_.empty()) {
    std::string victim = by_age_.begin()->second;
    erase(victim);
  }
  if (metrics_) metrics_->events_tracked.Set(static_cast<double>(events_.size()));
}

void EventStore::begin_list() {
  ++generation_;
}

Result<k8s::ListMeta> EventStore::apply_list_page(std::string_view body, std::size_t capacity) {
  k8s::ListMeta meta;
  auto r = decoder_.event_list(body, capacity, meta, [&](k8s::EventView& e) { upsert(e); });
  if (!r.ok()) return r.error();
  return meta;
}

void EventStore::end_list() {
  decoder_.release_list_buffers();
  std::vector<std::string> gone;
  for (const auto& [k, e] : events_) {
    if (e.mark != generation_) gone.push_back(k);
  }
  for (const auto& k : gone) erase(k);
  if (metrics_) metrics_->events_tracked.Set(static_cast<double>(events_.size()));
  interner_.maybe_collect(received_at);
}

Result<k8s::WatchHeader> EventStore::apply_watch_line(std::string_view line, std::size_t capacity) {
  k8s::WatchHeader hdr;
  auto r = decoder_.watch_event(line, capacity, hdr, scratch_);
  if (!r.ok()) return r.error();
  if (hdr.type == k8s::WatchType::kAdded || hdr.type == k8s::WatchType::kModified) {
    upsert(scratch_);
  } else if (hdr.type == k8s::WatchType::kDeleted) {
    erase(std::string(interner_.view(scratch_.ns)) + "/" + scratch_.name);
    if (metrics_) metrics_->events_tracked.Set(static_cast<double>(events_.size()));
  }
  interner_.maybe_collect(received_at);
  return hdr;
}

}  // namespace podmedic::watcher
