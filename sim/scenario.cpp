#include "sim/scenario.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/parse.h"
#include "sim/objects.h"

namespace podmedic::sim {

using json = nlohmann::json;

namespace {
const char* kSuffixes[] = {"x2x9q", "k7p4m", "b8n3d", "r5t6w", "h2j9c"};

const char* kCartOomLog =
    "2026-11-24T10:01:02Z INFO  cart-service starting, version 2.3.1\n"
    "2026-11-24T10:01:03Z INFO  loading product catalogue into memory cache\n"
    "2026-11-24T10:01:09Z INFO  cache warmed: 1,204,332 entries\n"
    "2026-11-24T10:01:12Z WARN  GC overhead limit approaching: heap 243Mi of 256Mi\n"
    "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n"
    "\tat java.base/java.util.HashMap.resize(HashMap.java:702)\n"
    "\tat com.example.cart.CatalogueCache.load(CatalogueCache.java:88)\n";

const char* kApiPanicLog =
    "{\"level\":\"info\",\"msg\":\"payments-api starting\",\"version\":\"1.9.0\"}\n"
    "{\"level\":\"info\",\"msg\":\"connecting to "
    "database\",\"dsn\":\"postgres://payments:hunter2@postgres.payments:5432/payments\"}\n"
    "{\"level\":\"error\",\"msg\":\"dial tcp 10.96.14.7:5432: connect: connection refused\"}\n"
    "panic: database unavailable after 3 attempts\n\n"
    "goroutine 1 [running]:\nmain.main()\n\t/src/cmd/api/main.go:57 +0x1d4\n";
}  // namespace

DemoCluster::DemoCluster(ApiServer& server, std::function<std::int64_t()> now)
    : server_(server), now_(std::move(now)) {}

void DemoCluster::event(const json& pod, const std::string& type, const std::string& reason,
                        const std::string& message, int count) {
  server_.store().upsert(Res::kEvents,
                         make_pod_event(pod, "app", type, reason, message, count, now_()));
}

void DemoCluster::deploy(const std::string& ns, const std::string& name, int replicas,
                         const std::string& image, const std::string& memory,
                         const std::string& hash) {
  auto t = now_();
  server_.store().upsert(Res::kDeployments, make_deployment(ns, name, replicas, t));
  server_.store().upsert(Res::kReplicaSets, make_replicaset(ns, name, hash, replicas, t));
  for (int i = 0; i < replicas; ++i) {
    PodTemplate pt;
    pt.ns = ns;
    pt.deployment = name;
    pt.rs_hash = hash;
    pt.name = name + "-" + hash + "-" + kSuffixes[(i + generation_) % 5];
    pt.image = image;
    pt.memory_limit = memory;
    pt.node = "worker-" + std::to_string(1 + i % 3);
    auto pod = make_pod(pt, t);
    server_.store().upsert(Res::kPods, pod);
    server_.set_logs(ns, pt.name, "app", "started " + name + "\nlistening on :8080\n", "");
  }
}

std::vector<std::string> DemoCluster::pods_of(const std::string& ns,
                                              const std::string& deployment) const {
  std::vector<std::string> out;
  for (auto& o : server_.store().all(Res::kPods, ns)) {
    auto it = o->labels.find("app");
    if (it != o->labels.end() && it->second == deployment) out.push_back(o->name);
  }
  return out;
}

void DemoCluster::crash_all(const std::string& ns, const std::string& deployment, int exit_code,
                            const std::string& reason, const std::string& previous_log,
                            const std::string& message) {
  for (const auto& name : pods_of(ns, deployment)) {
    auto pod = *server_.store().get(Res::kPods, ns, name);
    set_crashloop(pod, "app", exit_code, reason, now_());
    server_.store().upsert(Res::kPods, pod);
    server_.set_logs(ns, name, "app", "", previous_log);
    int restarts = 1;
    if (const json* status = parse::get_object(pod, "status")) {
      if (const json* list = parse::get_array(*status, "containerStatuses")) {
        if (const json* cs = parse::element(*list, 0))
          restarts = parse::integer_or(*cs, "restartCount", 1);
      }
    }
    event(pod, "Warning", "BackOff",
          message + " in pod " + name + "_" + ns + "(" + pod_uid(pod) + ")", restarts);
  }
}

void DemoCluster::recover_all(const std::string& ns, const std::string& deployment) {
  for (const auto& name : pods_of(ns, deployment)) {
    auto pod = *server_.store().get(Res::kPods, ns, name);
    set_running(pod, "app", now_());
    server_.store().upsert(Res::kPods, pod);
    server_.set_logs(ns, name, "app", "started " + deployment + "\nlistening on :8080\n", "");
  }
}

void DemoCluster::rollout(const std::string& ns, const std::string& deployment,
                          const std::string& image, const std::string& hash) {
  auto names = pods_of(ns, deployment);
  if (names.empty()) return;
  auto first = *server_.store().get(Res::kPods, ns, names[0]);
  const json* labels = parse::get_object(first["metadata"], "labels");
  const std::string old_hash = labels ? parse::string_or(*labels, "pod-template-hash") : "";
  if (old_hash.empty() || old_hash == hash) return;
  // The template as the pods run it: the revision before, and the new one with `image`.
  PodTemplate t;
  t.ns = ns;
  t.deployment = deployment;
  t.name = names[0];
  t.image = parse::string_or(first["spec"]["containers"][0], "image");
  t.rs_hash = old_hash;
  server_.store().upsert(Res::kReplicaSets, make_revision_replicaset(t, 1, 0, now_() - 86400));
  t.rs_hash = hash;
  t.image = image;
  server_.store().upsert(Res::kReplicaSets,
                         make_revision_replicaset(t, 2, static_cast<int>(names.size()), now_()));
  for (const auto& name : names) {
    auto pod = *server_.store().get(Res::kPods, ns, name);
    pod["metadata"]["labels"]["pod-template-hash"] = hash;
    pod["metadata"]["ownerReferences"][0]["name"] = deployment + "-" + hash;
    server_.store().upsert(Res::kPods, pod);
  }
}

void DemoCluster::bad_rollout(const std::string& ns, const std::string& deployment,
                              const std::string& image) {
  for (const auto& name : pods_of(ns, deployment)) {
    auto pod = *server_.store().get(Res::kPods, ns, name);
    pod["spec"]["containers"][0]["image"] = image;
    bool backoff = step_ % 2 == 0;
    set_waiting(pod, "app", backoff ? "ImagePullBackOff" : "ErrImagePull",
                backoff
                    ? "Back-off pulling image \"" + image + "\""
                    : "rpc error: code = NotFound desc = failed to pull and unpack image \"" +
                          image + "\": failed to resolve reference \"" + image + "\": not found",
                now_());
    server_.store().upsert(Res::kPods, pod);
    event(pod, "Warning", "Failed",
          "Failed to pull image \"" + image + "\": " + image + ": not found", 2);
  }
}

void DemoCluster::populate() {
  auto t = now_();
  for (const char* ns : {"shop", "payments", "web", "batch"}) {
    server_.store().upsert(Res::kNamespaces, make_namespace(ns, t));
  }
  deploy("shop", "cart", 3, "registry.example.com/shop/cart:2.3.1", "256Mi", "7d9f8b6c5d");
  deploy("shop", "checkout", 2, "registry.example.com/shop/checkout:1.12.0", "512Mi", "5c6b7a8d9e");
  deploy("payments", "api", 2, "registry.example.com/payments/api:1.9.0", "128Mi", "84b5f7c9d6");
  deploy("web", "frontend", 2, "registry.example.com/web/frontend:4.0.2", "128Mi", "6f7e8d9c0b");
  // A completed Job: exit 0, phase Succeeded. Not a failure.
  PodTemplate job;
  job.ns = "batch";
  job.name = "nightly-report-28890720-q4w2x";
  job.image = "registry.example.com/batch/report:3.1";
  auto pod = make_pod(job, t);
  pod["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "batch/v1"},
                                                     {"kind", "Job"},
                                                     {"name", "nightly-report-28890720"},
                                                     {"uid", "job-uid-1"},
                                                     {"controller", true}}});
  pod["spec"]["restartPolicy"] = "Never";
  set_terminated(pod, "app", 0, "Completed", t);
  pod["status"]["phase"] = "Succeeded";
  server_.store().upsert(Res::kPods, pod);
}

void DemoCluster::step() {
  int s = step_++ % cycle_length();
  if (s == 0 && step_ > 1) {
    // A new cycle: fresh pods as after a redeploy.
    for (auto& o : server_.store().all(Res::kPods)) {
      if (o->ns != "batch") server_.store().remove(Res::kPods, o->ns, o->name);
    }
    ++generation_;
    deploy("shop", "cart", 3, "registry.example.com/shop/cart:2.3.1", "256Mi", "7d9f8b6c5d");
    deploy("shop", "checkout", 2, "registry.example.com/shop/checkout:1.12.0", "512Mi",
           "5c6b7a8d9e");
    deploy("payments", "api", 2, "registry.example.com/payments/api:1.9.0", "128Mi", "84b5f7c9d6");
    deploy("web", "frontend", 2, "registry.example.com/web/frontend:4.0.2", "128Mi", "6f7e8d9c0b");
  }
  if (s == 2 || s == 6 || s == 10) {
    crash_all("shop", "cart", 137, "OOMKilled", kCartOomLog,
              "Back-off restarting failed container app");
  }
  if (s == 4 || s == 9 || s == 14) {
    crash_all("payments", "api", 2, "Error", kApiPanicLog,
              "Back-off restarting failed container app");
  }
  if (s == 7)
    rollout("web", "frontend", "registry.example.com/web/frontend:4.0.3-typo", "8a9b0c1d2e");
  if (s >= 7 && s <= 16)
    bad_rollout("web", "frontend", "registry.example.com/web/frontend:4.0.3-typo");
  if (s == 8) {
    // A rolling restart: the old pod gets SIGTERM (exit 143) and is deleted. Not a crash.
    auto names = pods_of("shop", "checkout");
    if (!names.empty()) {
      auto pod = *server_.store().get(Res::kPods, "shop", names[0]);
      set_terminated(pod, "app", 143, "Error", now_());
      set_deleting(pod, now_());
      server_.store().upsert(Res::kPods, pod);
      server_.store().remove(Res::kPods, "shop", names[0]);
    }
  }
  if (s == 18) recover_all("web", "frontend");
  if (s == 22) recover_all("shop", "cart");
  if (s == 26) recover_all("payments", "api");
}

net::awaitable<void> DemoCluster::run(std::chrono::milliseconds every) {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  for (;;) {
    timer.expires_after(every);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    step();
  }
}

}  // namespace podmedic::sim
