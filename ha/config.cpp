#include "ha/config.h"

namespace podmedic::ha {

config::Schema ha_schema(HaConfig& h) {
  using namespace config;
  return Schema{
      boolean("enabled", &h.enabled,
              "elect a leader on a coordination.k8s.io Lease; state moves with it "
              "through the ConfigMap <leaseName>-state"),
      str("leaseName", &h.lease_name, "name of the Lease (and prefix of the state ConfigMap)"),
      str("leaseNamespace", &h.lease_namespace,
          "namespace of the Lease; empty: $POD_NAMESPACE, else default"),
      str("identity", &h.identity, "this replica's identity; empty: $POD_NAME, else the host name"),
      duration("leaseDuration", &h.lease_duration, "a leader silent this long is replaced", false),
      duration("renewDeadline", &h.renew_deadline,
               "a leader that cannot renew this long steps down", false),
      duration("retryPeriod", &h.retry_period, "how often to try and renew", false)};
}

void validate(const HaConfig& h, config::Ctx& ctx) {
  if (!h.enabled) return;
  if (h.renew_deadline >= h.lease_duration)
    ctx.error("ha.renewDeadline", "must be shorter than ha.leaseDuration");
  if (h.retry_period >= h.renew_deadline)
    ctx.error("ha.retryPeriod", "must be shorter than ha.renewDeadline");
  if (h.lease_name.empty()) ctx.error("ha.leaseName", "must not be empty");
}

}  // namespace podmedic::ha
