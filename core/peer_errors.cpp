#include "core/peer_errors.h"

#include <string>

namespace podmedic {

std::string_view peer_label(Peer p) {
  switch (p) {
    case Peer::kApiServer:
      return "apiserver";
    case Peer::kLlm:
      return "llm";
    case Peer::kSlack:
      return "slack";
    case Peer::kWebhook:
      return "webhook";
    case Peer::kPagerDuty:
      return "pagerduty";
    case Peer::kTeams:
      return "teams";
    case Peer::kAlertmanager:
      return "alertmanager";
    case Peer::kExec:
      return "exec";
  }
  return "unknown";
}

std::string_view fault_label(PeerFault f) {
  switch (f) {
    case PeerFault::kTransport:
      return "transport";
    case PeerFault::kTimeout:
      return "timeout";
    case PeerFault::kStatus:
      return "status";
    case PeerFault::kMalformed:
      return "malformed";
    case PeerFault::kWrongType:
      return "wrong_type";
    case PeerFault::kBadHeader:
      return "bad_header";
    case PeerFault::kOversized:
      return "oversized";
  }
  return "unknown";
}

PeerErrors::PeerErrors(prometheus::Registry& registry) {
  auto& family = prometheus::BuildCounter()
                     .Name("podmedic_peer_errors_total")
                     .Help("Answers from peers that podmedic could not use, by peer and kind")
                     .Register(registry);
  for (std::size_t p = 0; p < kPeerCount; ++p) {
    for (std::size_t f = 0; f < kPeerFaultCount; ++f) {
      counters_[p][f] =
          &family.Add({{"peer", std::string(peer_label(static_cast<Peer>(p)))},
                       {"kind", std::string(fault_label(static_cast<PeerFault>(f)))}});
    }
  }
}

}  // namespace podmedic
