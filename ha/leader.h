#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, the client-go algorithm
// (tools/leaderelection): every retry period, GET the Lease; create it if missing; take it when
// its holder has not renewed for a lease duration *as observed locally* (no trust in remote
// clocks); renew it while leading; give up leadership when renewals fail for the renew deadline.
// Writes use optimistic concurrency on metadata.resourceVersion: of two contenders, the second
// PUT gets 409 Conflict and stays a follower. Runs on the pipeline's io_context; not thread-safe
// (one owner thread, the one running that io_context).
#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/peer_errors.h"
#include "ha/config.h"
#include "k8s/client.h"

namespace podmedic::ha {

struct LeaderSettings {
  std::string ns = "default";
  std::string name = "podmedic";
  std::string identity;  // this replica (the pod name)
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
};

class LeaderElector {
 public:
  LeaderElector(k8s::KubeClient& client, LeaderSettings s, std::function<void()> on_started,
                std::function<void()> on_stopped, PeerErrors* peer_errors = nullptr)
      : client_(client),
        s_(std::move(s)),
        on_started_(std::move(on_started)),
        on_stopped_(std::move(on_stopped)),
        peer_errors_(peer_errors) {}
  // Campaigns until elected, leads until a renewal deadline passes (then on_stopped and return).
  boost::asio::awaitable<void> run();
  bool leading() const { return leading_; }
  // Whether it led and lost the Lease (run() has returned after on_stopped).
  bool lost() const { return lost_; }

 private:
  boost::asio::awaitable<bool> try_acquire_or_renew();
  std::string path(bool item) const;

  k8s::KubeClient& client_;
  LeaderSettings s_;
  std::function<void()> on_started_, on_stopped_;
  PeerErrors* peer_errors_;  // unreadable Leases are counted here (may be null)
  bool leading_ = false;
  bool lost_ = false;
  std::string observed_holder_, observed_renew_;
  std::chrono::steady_clock::time_point observed_at_{};
};

// "2026-11-24T06:30:00.000000Z": the MicroTime format of Lease timestamps.
std::string micro_time_now();

// Where this replica runs: the downward API's POD_NAMESPACE and POD_NAME, and the host name.
// Read once by the composition root (process_environment), injected in tests.
struct Environment {
  std::string pod_namespace;
  std::string pod_name;
  std::string host_name;
};
Environment process_environment();

// The Lease this replica campaigns for: ha.leaseName in ha.leaseNamespace, else $POD_NAMESPACE,
// else "default"; its identity is ha.identity, else $POD_NAME, else the host name. The timings
// are the configured ones (config validation keeps them ordered).
LeaderSettings leader_settings(const HaConfig& c, const Environment& env);

}  // namespace podmedic::ha
