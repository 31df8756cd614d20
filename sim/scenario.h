#pragma once
// DemoCluster: a scripted cluster on the simulated API server for `podmedic demo` and the
// end-to-end tests. Workloads in several namespaces fall into OOMKilled, CrashLoopBackOff and
// ImagePullBackOff with kubelet-like status transitions, events and previous-container logs,
// next to things that are not failures (a completed Job, a rollout's SIGTERM), then recover,
// and the cycle repeats. Runs on the simulator's io_context thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "sim/server.h"

namespace podmedic::sim {

class DemoCluster {
 public:
  // `now` gives Unix seconds (a fake clock in tests).
  DemoCluster(ApiServer& server, std::function<std::int64_t()> now);

  // Creates namespaces, deployments, replica sets and healthy pods.
  void populate();
  // Advances the script by one step; `run` calls it every `step`.
  void step();
  net::awaitable<void> run(std::chrono::milliseconds step);

  int cycle_length() const { return 40; }
  int step_index() const { return step_; }
  // Pods currently owned by a deployment, e.g. pods_of("shop", "cart").
  std::vector<std::string> pods_of(const std::string& ns, const std::string& deployment) const;

 private:
  void deploy(const std::string& ns, const std::string& name, int replicas,
              const std::string& image, const std::string& memory, const std::string& hash);
  void crash_all(const std::string& ns, const std::string& deployment, int exit_code,
                 const std::string& reason, const std::string& previous_log,
                 const std::string& event);
  void recover_all(const std::string& ns, const std::string& deployment);
  void bad_rollout(const std::string& ns, const std::string& deployment, const std::string& image);
  // A rollout as the Deployment controller does it: a new ReplicaSet <deployment>-<hash> with
  // the next revision (deployment.kubernetes.io/revision) and the template with `image`, created
  // now; the Deployment's pods move to it (owner and pod-template-hash).
  void rollout(const std::string& ns, const std::string& deployment, const std::string& image,
               const std::string& hash);
  void event(const nlohmann::json& pod, const std::string& type, const std::string& reason,
             const std::string& message, int count);

  ApiServer& server_;
  std::function<std::int64_t()> now_;
  int step_ = 0;
  int generation_ = 0;
};

}  // namespace podmedic::sim
