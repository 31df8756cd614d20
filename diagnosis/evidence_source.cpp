#include "diagnosis/evidence_source.h"

#include <algorithm>

#include "incidents/workload.h"

namespace podmedic::diagnosis {

namespace net = boost::asio;

EvidenceSource::EvidenceSource(k8s::KubeClient& client, Interner& interner,
                               const rules::Detector& detector, LogBudget budget,
                               EvidenceCache cache, FactSettings facts)
    : client_(client),
      interner_(interner),
      detector_(detector),
      budget_(budget),
      cache_(std::move(cache)),
      facts_(std::move(facts)) {}

net::awaitable<Result<std::vector<Revision>>> EvidenceSource::revisions(std::string ns,
                                                                        std::string owner_kind) {
  // ReplicaSets for Deployment pods, ControllerRevisions for the others: two lists per namespace.
  const std::string key = ns + "/" + (owner_kind == "ReplicaSet" ? "rs" : "cr");
  const auto now = std::chrono::steady_clock::now();
  if (auto it = revisions_.find(key); it != revisions_.end() && now - it->second.at < kRevisionTtl)
    co_return *it->second.revisions;
  auto op = fetch_revisions(client_, ns, owner_kind);
  auto r = co_await std::move(op);
  if (!r.ok()) co_return r;
  if (revisions_.size() >= kRevisionCacheEntries && !revisions_.count(key)) {
    auto oldest =
        std::min_element(revisions_.begin(), revisions_.end(),
                         [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
    revisions_.erase(oldest);
  }
  revisions_[key] = {std::chrono::steady_clock::now(),
                     std::make_shared<const std::vector<Revision>>(*r)};
  co_return r;
}

net::awaitable<Result<Evidence>> EvidenceSource::pod(std::string ns, std::string pod,
                                                     std::shared_ptr<RedactionSession> session) {
  PodFacts facts;
  std::string workload;
  // Read at once, before any await: the store may replace or drop the pod meanwhile.
  const k8s::PodView* cached = cache_.pods ? cache_.pods->find(ns, pod) : nullptr;
  if (cached) {
    facts = pod_facts(*cached, interner_, detector_);
    workload = incidents::resolve_workload(*cached, interner_).name;
  } else {
    auto get = get_pod(client_, interner_, ns, pod);
    auto view = co_await std::move(get);
    if (!view.ok()) co_return view.error();
    facts = pod_facts(*view, interner_, detector_);
    workload = incidents::resolve_workload(*view, interner_).name;
  }
  RevisionLookup lookup = [this](std::string ns, std::string kind) {
    return revisions(std::move(ns), std::move(kind));
  };
  auto op = complete_evidence(client_, interner_, std::move(facts), budget_, std::move(session),
                              facts_, std::move(lookup));
  auto ev = co_await std::move(op);
  if (ev.ok()) ev->workload = std::move(workload);
  co_return ev;
}

net::awaitable<Result<std::vector<std::string>>> EvidenceSource::failing_pods(std::string ns,
                                                                              std::size_t max) {
  if (cache_.pods && cache_.covers && cache_.covers(ns)) {
    const Sym want = interner_.find(ns);
    std::vector<std::string> failing;
    // Bounded by the pods of one namespace in the store.
    if (want != 0) {
      cache_.pods->for_each([&](const k8s::PodView& p) {
        if (p.ns == want && !detector_.current(p).empty()) failing.push_back(p.name);
      });
    }
    std::sort(failing.begin(), failing.end());
    if (failing.size() > max) failing.resize(max);
    co_return failing;
  }
  auto op = diagnosis::failing_pods(client_, interner_, detector_, ns, max, kPageSize);
  co_return co_await std::move(op);
}

net::awaitable<bool> EvidenceSource::namespace_missing(std::string ns) {
  using namespace std::chrono_literals;
  auto op = client_.get("/api/v1/namespaces/" + k8s::url_encode(ns), 1u << 20, 30s);
  auto got = co_await std::move(op);
  co_return got.ok() && got->status == 404;
}

}  // namespace podmedic::diagnosis
