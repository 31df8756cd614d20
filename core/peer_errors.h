#pragma once
// podmedic_peer_errors_total{peer,kind}: every time a peer (the API server, the LLM server, a
// notifier's receiver, the exec credential plugin) answers with something we could not use, it is
// counted here, with both labels from fixed sets so no peer can add series. All 8 × 7 series
// exist from the start at zero. Several PeerErrors on one registry share the same family.
// Thread-safe (prometheus-cpp counters are atomics).
#include <array>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace podmedic {

enum class Peer { kApiServer, kLlm, kSlack, kWebhook, kPagerDuty, kTeams, kAlertmanager, kExec };
inline constexpr std::size_t kPeerCount = 8;

enum class PeerFault {
  kTransport,  // no HTTP response: refused, reset, TLS failure, cut body
  kTimeout,    // no (complete) answer within the deadline
  kStatus,     // an HTTP status we did not expect (5xx, unexpected 4xx)
  kMalformed,  // a body that does not parse (not JSON, a cut stream, bad UTF-8 where it matters)
  kWrongType,  // valid JSON with a field of the wrong type or missing
  kBadHeader,  // an unusable header (Retry-After garbage or beyond the cap)
  kOversized,  // a body or line beyond our bound
};
inline constexpr std::size_t kPeerFaultCount = 7;

std::string_view peer_label(Peer p);
std::string_view fault_label(PeerFault f);

class PeerErrors {
 public:
  explicit PeerErrors(prometheus::Registry& registry);
  void count(Peer p, PeerFault f) { counters_[idx(p)][idx(f)]->Increment(); }
  double value(Peer p, PeerFault f) const { return counters_[idx(p)][idx(f)]->Value(); }

 private:
  template <class E>
  static std::size_t idx(E e) {
    return static_cast<std::size_t>(e);
  }
  std::array<std::array<prometheus::Counter*, kPeerFaultCount>, kPeerCount> counters_{};
};

}  // namespace podmedic
