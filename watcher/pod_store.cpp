#include "watcher/pod_store.h"

namespace podmedic::watcher {

PodStore::PodStore(Interner& interner, WatchMetrics* metrics)
    : interner_(interner), metrics_(metrics), decoder_(interner) {
  interner_.add_root(this);
}

PodStore::~PodStore() {
  interner_.remove_root(this);
}

void PodStore::mark_symbols(const Interner::Marker& mark) const {
  for (const auto& p : pods_) k8s::for_each_sym(*p, mark);
}

const k8s::PodView* PodStore::find(std::string_view ns, std::string_view name) const {
  Sym s = interner_.find(ns);
  if (s == 0 && !ns.empty()) return nullptr;
  auto it = pods_.find(Key{s, name});
  return it == pods_.end() ? nullptr : it->get();
}

void PodStore::for_each(const std::function<void(const k8s::PodView&)>& f) const {
  for (const auto& p : pods_) f(*p);
}

void PodStore::update_gauge() {
  if (metrics_) metrics_->pods_tracked.Set(static_cast<double>(pods_.size()));
}

void PodStore::upsert(k8s::PodView& pod, bool from_list) {
  pod.mark = generation_;
  auto it = pods_.find(Key{pod.ns, pod.name});
  if (it == pods_.end()) {
    auto stored = std::make_unique<k8s::PodView>(std::move(pod));
    const k8s::PodView* after = stored.get();
    pods_.insert(std::move(stored));
    update_gauge();
    if (listener_) listener_(k8s::WatchType::kAdded, nullptr, after);
    return;
  }
  k8s::PodView& current = **it;
  if (from_list && current.resource_version == pod.resource_version) {
    current.mark = generation_;  // unchanged since we last saw it
    return;
  }
  // Same namespace/name, so the set's key is unchanged by the swap; `pod` now holds the old state.
  std::swap(current, pod);
  if (listener_) listener_(k8s::WatchType::kModified, &pod, &current);
}

void PodStore::erase(const k8s::PodView& pod) {
  auto it = pods_.find(Key{pod.ns, pod.name});
  if (it == pods_.end()) return;  // a DELETED for something we never saw: nothing to do
  auto node = pods_.extract(it);
  update_gauge();
  if (listener_) listener_(k8s::WatchType::kDeleted, node.value().get(), nullptr);
}

void PodStore::begin_list() {
  ++generation_;
}

Result<k8s::ListMeta> PodStore::apply_list_page(std::string_view body, std::size_t capacity) {
  k8s::ListMeta meta;
  auto r = decoder_.pod_list(body, capacity, meta, [&](k8s::PodView& pod) { upsert(pod, true); });
  if (!r.ok()) return r.error();
  return meta;
}

void PodStore::end_list() {
  decoder_.release_list_buffers();
  // Objects the list did not contain vanished while we were not watching: synthesize DELETED.
  std::vector<const k8s::PodView*> gone;
  for (const auto& p : pods_) {
    if (p->mark != generation_) gone.push_back(p.get());
  }
  for (const auto* p : gone) {
    k8s::PodView copy = *p;
    erase(copy);
  }
  interner_.maybe_collect(received_at);
}

Result<k8s::WatchHeader> PodStore::apply_watch_line(std::string_view line, std::size_t capacity) {
  k8s::WatchHeader hdr;
  auto r = decoder_.watch_pod(line, capacity, hdr, scratch_);
  if (!r.ok()) return r.error();
  switch (hdr.type) {
    case k8s::WatchType::kAdded:
    case k8s::WatchType::kModified:
      upsert(scratch_, false);
      break;
    case k8s::WatchType::kDeleted:
      erase(scratch_);
      break;
    default:
      break;
  }
  interner_.maybe_collect(received_at);  // after the listener: nothing holds scratch symbols now
  return hdr;
}

}  // namespace podmedic::watcher
