#pragma once
// EvidenceSource: a pod's evidence and a namespace's failing pods, read from the informer cache
// (the watcher's PodStore) when it holds them, from the API server otherwise. A cached pod costs
// no GET; its events (all types: the EventStore keeps Warning events only, and a pod's Normal
// "Back-off pulling image" is evidence too) and its logs always come from the API. Without a
// cache (`podmedic diagnose` runs no watcher) every read goes to the API, the namespace listing
// in pages. Runs on the io_context that owns the stores; not thread-safe.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/interner.h"
#include "diagnosis/evidence.h"
#include "diagnosis/redact.h"
#include "k8s/client.h"
#include "rules/detect.h"
#include "watcher/pod_store.h"

namespace podmedic::diagnosis {

struct EvidenceCache {
  const watcher::PodStore* pods = nullptr;  // null: no cache
  // True when the cache holds every pod of the namespace (the watch is synced, the namespace is
  // in its scope, no label selector). Null: never (a pod missing from the cache is then looked
  // up in the API; a namespace is listed from the API).
  std::function<bool(const std::string& ns)> covers;
};

class EvidenceSource {
 public:
  EvidenceSource(k8s::KubeClient& client, Interner& interner, const rules::Detector& detector,
                 LogBudget budget, EvidenceCache cache = {}, FactSettings facts = {});

  // The redacted evidence of one pod (see gather_pod), with Evidence::workload filled. The pod
  // object comes from the cache when it is there, else from a GET. `session`: the answer's
  // RedactionSession (null: a fresh one over the built-in rules).
  boost::asio::awaitable<Result<Evidence>> pod(std::string ns, std::string pod,
                                               std::shared_ptr<RedactionSession> session);
  // The failing pods of `ns`, at most `max`, sorted by name (the API's order): from the cache
  // when it covers the namespace, else the API's listing in pages of kPageSize.
  boost::asio::awaitable<Result<std::vector<std::string>>> failing_pods(std::string ns,
                                                                        std::size_t max);
  // True only when the API answers 404 for the namespace: any other answer (403 for a
  // namespaced Role without namespaces/get, a transport error) leaves the question open.
  boost::asio::awaitable<bool> namespace_missing(std::string ns);

  static constexpr int kPageSize = 500;
  // Revisions listed for a namespace are reused this long (a storm of one workload's pods costs
  // one LIST), in at most kRevisionCacheEntries namespaces × kinds (the oldest goes first).
  static constexpr std::chrono::seconds kRevisionTtl{30};
  static constexpr std::size_t kRevisionCacheEntries = 64;
  Interner& interner() { return interner_; }

 private:
  boost::asio::awaitable<Result<std::vector<Revision>>> revisions(std::string ns,
                                                                  std::string owner_kind);
  struct CachedRevisions {
    std::chrono::steady_clock::time_point at;
    std::shared_ptr<const std::vector<Revision>> revisions;
  };
  k8s::KubeClient& client_;
  Interner& interner_;
  const rules::Detector& detector_;
  LogBudget budget_;
  EvidenceCache cache_;
  FactSettings facts_;
  std::map<std::string, CachedRevisions> revisions_;  // "ns/kind"; ≤ kRevisionCacheEntries
};

}  // namespace podmedic::diagnosis
