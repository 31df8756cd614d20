#pragma once
// The ha: section of the configuration: its settings and keys. Plain data, so the configuration
// can hold it without pulling in the HA machinery.
#include <chrono>
#include <string>

#include "core/config_schema.h"

namespace podmedic::ha {

struct HaConfig {
  bool enabled = false;  // two replicas, one voice: Lease-based leader election
  std::string lease_name = "podmedic";
  std::string lease_namespace;  // empty: $POD_NAMESPACE, else "default"
  std::string identity;         // empty: $POD_NAME, else the host name
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
};

config::Schema ha_schema(HaConfig& h);
void validate(const HaConfig& h, config::Ctx& ctx);

}  // namespace podmedic::ha
