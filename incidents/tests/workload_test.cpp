#include <catch2/catch.hpp>

#include "incidents/workload.h"

using namespace podmedic;
using namespace podmedic::incidents;

namespace {
k8s::PodView pod(Interner& in, const char* name, const char* kind, const char* owner,
                 const char* hash = "") {
  k8s::PodView p;
  p.name = name;
  p.ns = in.intern("shop");
  p.owner_kind = in.intern(kind);
  p.owner_name = in.intern(owner);
  p.template_hash = in.intern(hash);
  return p;
}
}  // namespace

TEST_CASE("workloads follow the controllers' naming contracts") {
  Interner in;
  struct Row {
    k8s::PodView pod;
    Workload want;
  };
  std::vector<Row> rows = {
      {pod(in, "cart-7d9f8b6c5d-x2x9q", "ReplicaSet", "cart-7d9f8b6c5d", "7d9f8b6c5d"),
       {"Deployment", "cart"}},
      {pod(in, "web-abc-x", "ReplicaSet", "web-abc"),
       {"ReplicaSet", "web-abc"}},  // no hash label: bare RS
      {pod(in, "db-0", "StatefulSet", "db"), {"StatefulSet", "db"}},
      {pod(in, "agent-xk2p", "DaemonSet", "agent"), {"DaemonSet", "agent"}},
      {pod(in, "nightly-report-28890720-q4w2x", "Job", "nightly-report-28890720"),
       {"CronJob", "nightly-report"}},
      {pod(in, "migrate-x", "Job", "migrate"), {"Job", "migrate"}},
      {pod(in, "debug", "", ""), {"Pod", "debug"}},
  };
  for (auto& r : rows) {
    INFO(r.pod.name);
    CHECK(resolve_workload(r.pod, in) == r.want);
  }
}
