#pragma once
// PodStore: the compact, always-current view of every watched pod, keyed by namespace/name.
// Applies list pages and watch lines (via the Decoder) and tells a listener what changed, with
// the state before and after. Owned by the pipeline's io_context thread; not thread-safe.
// A Root of its Interner: the symbols of stored pods stay alive; those of replaced and deleted
// pods are freed by the interner's periodic collection, which this store triggers after applying
// lines (Interner::maybe_collect with the reflector's received_at).
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_set>

#include "core/interner.h"
#include "k8s/decode.h"
#include "k8s/objects.h"
#include "watcher/metrics.h"
#include "watcher/reflector.h"

namespace podmedic::watcher {

class PodStore final : public ReflectorSink, private Interner::Root {
 public:
  // before/after: null for ADDED/DELETED respectively. Called synchronously; must not keep the
  // pointers past the call.
  using Listener = std::function<void(k8s::WatchType type, const k8s::PodView* before,
                                      const k8s::PodView* after)>;

  PodStore(Interner& interner, WatchMetrics* metrics = nullptr);
  ~PodStore();
  PodStore(const PodStore&) = delete;
  PodStore& operator=(const PodStore&) = delete;
  void set_listener(Listener l) { listener_ = std::move(l); }

  std::size_t size() const { return pods_.size(); }
  const k8s::PodView* find(std::string_view ns, std::string_view name) const;
  void for_each(const std::function<void(const k8s::PodView&)>& f) const;
  Interner& interner() { return interner_; }

  void begin_list() override;
  Result<k8s::ListMeta> apply_list_page(std::string_view body, std::size_t capacity) override;
  void end_list() override;
  Result<k8s::WatchHeader> apply_watch_line(std::string_view line, std::size_t capacity) override;

 private:
  struct Key {
    Sym ns;
    std::string_view name;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const Key& k) const {
      return std::hash<std::string_view>{}(k.name) * 31 + k.ns;
    }
    std::size_t operator()(const std::unique_ptr<k8s::PodView>& p) const {
      return (*this)(Key{p->ns, p->name});
    }
  };
  struct Eq {
    using is_transparent = void;
    static Key key(const Key& k) { return k; }
    static Key key(const std::unique_ptr<k8s::PodView>& p) { return Key{p->ns, p->name}; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      Key x = key(a), y = key(b);
      return x.ns == y.ns && x.name == y.name;
    }
  };
  void mark_symbols(const Interner::Marker& mark) const override;
  void upsert(k8s::PodView& pod, bool from_list);
  void erase(const k8s::PodView& pod);
  void update_gauge();

  Interner& interner_;
  WatchMetrics* metrics_;
  k8s::Decoder decoder_;
  std::unordered_set<std::unique_ptr<k8s::PodView>, Hash, Eq> pods_;
  std::uint32_t generation_ = 0;
  k8s::PodView scratch_;
  Listener listener_;
};

}  // namespace podmedic::watcher
