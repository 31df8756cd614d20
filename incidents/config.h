#pragma once
// The `detect` and `state` sections of the configuration: what counts as broken, when an
// incident resolves, is reminded or reopens, and where its state is kept.
#include <chrono>
#include <map>
#include <string>

#include "core/config_schema.h"
#include "incidents/tracker.h"
#include "rules/detect.h"

namespace podmedic::incidents {

using std::chrono::milliseconds;

struct DetectConfig {
  rules::DetectSettings rules;
  milliseconds resolve_after{std::chrono::minutes(5)};
  milliseconds renotify_after{std::chrono::hours(4)};
  milliseconds flap_hold_down{std::chrono::minutes(10)};
  std::map<std::string, std::string> severity = default_severity();  // reason → severity
  std::map<std::string, std::string> runbooks;                       // reason → URL template
};

struct StateConfig {
  std::string dir = "/var/lib/podmedic";
  milliseconds outbox_max_age{std::chrono::hours(24)};  // older undelivered messages are dropped
};

// A failure reason detection knows, or why not (also used to route notifiers).
std::string check_reason(const std::string& s);

config::Schema detect_schema(DetectConfig& d);
config::Schema state_schema(StateConfig& s);
void validate(const DetectConfig& d, config::Ctx& ctx);
void validate(const StateConfig& s, config::Ctx& ctx);

// The tracker's settings from the detect section (durations in whole seconds) for `cluster`.
// Alerts are confirmed by the sink (the alert hold holds them for the diagnosis).
IncidentSettings tracker_settings(const DetectConfig& d, const std::string& cluster);

}  // namespace podmedic::incidents
