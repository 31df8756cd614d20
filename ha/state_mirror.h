#pragma once
// The incident state and the undelivered notifications move with leadership: the leader mirrors
// them to the ConfigMap <leaseName>-state (data "incidents.json" and "outbox.json"), and a new
// leader reads that ConfigMap before it announces anything. Writes use optimistic concurrency on
// metadata.resourceVersion (the version of our own last write, so no GET before each PUT).
//
// Runs on the pipeline's io_context; not thread-safe (every call on that thread). Failures are
// values: a damaged or unreadable ConfigMap means the local state stays, a failed write is
// retried on the next round, logged rate-limited.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/peer_errors.h"
#include "core/result.h"
#include "ha/leader.h"
#include "k8s/client.h"

namespace podmedic::ha {

struct MirrorSettings {
  std::string ns = "default";                // the Lease's namespace
  std::string configmap = "podmedic-state";  // <leaseName>-state
  std::chrono::milliseconds interval{100};   // how often a changed state is written
  std::size_t max_bytes = 900 * 1024;        // state + outbox; a ConfigMap holds at most 1 MiB
};

// The ConfigMap next to the Lease `lease` campaigns for.
MirrorSettings mirror_settings(const LeaderSettings& lease);

// What the mirror reads and writes outside itself. Every member may be empty (then skipped).
struct MirrorHooks {
  // The notifiers' undelivered messages now (mirrored when they change).
  std::function<nlohmann::json()> outbox_snapshot;
  // Takes the predecessor's undelivered messages; returns how many were adopted.
  std::function<std::size_t(const nlohmann::json&)> adopt_outbox;
  // Writes the inherited incident state where the local state lives (before the caller loads it).
  std::function<Result<Ok>(const nlohmann::json&)> save_state;
};

// The state ConfigMap's body. `resource_version` empty: for a create (POST); else the version
// the update (PUT) expects. An empty text leaves its data key out.
std::string state_configmap(const MirrorSettings& s, const std::string& state_text,
                            const std::string& outbox_text, const std::string& resource_version);

class StateMirror {
 public:
  // `client` and `peer_errors` (may be null: unreadable ConfigMaps are counted there) must outlive
  // the mirror.
  StateMirror(k8s::KubeClient& client, MirrorSettings s, MirrorHooks hooks,
              PeerErrors* peer_errors = nullptr)
      : client_(client), s_(std::move(s)), hooks_(std::move(hooks)), peer_errors_(peer_errors) {}

  // The incident state was saved locally (the tracker's on_persist): mirrored on the next round.
  void state_saved(const nlohmann::json& state);

  // On election: the state the previous leader mirrored (if readable) is saved locally through
  // hooks.save_state and its outbox handed to hooks.adopt_outbox; from then on the mirror writes.
  // A missing ConfigMap (404) is a first leader; any other failure keeps the local state.
  boost::asio::awaitable<void> take_over();
  // Lost leadership: writes nothing more.
  void stop() { active_ = false; }
  bool active() const { return active_; }

  // Every interval, while active and something changed, writes the ConfigMap. Runs until
  // cancelled (owned by the caller's TaskGroup).
  boost::asio::awaitable<void> run();

 private:
  std::string path(bool item) const;

  k8s::KubeClient& client_;
  MirrorSettings s_;
  MirrorHooks hooks_;
  PeerErrors* peer_errors_;
  bool active_ = false;
  std::string text_;             // the last saved state, serialized
  std::string mirrored_outbox_;  // the outbox as last written
  std::string rv_;               // resourceVersion of our last write; empty: unknown
  bool dirty_ = false;
  log::RateLimited failed_;
};

}  // namespace podmedic::ha
