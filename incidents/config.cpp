#include "incidents/config.h"

#include <algorithm>

namespace podmedic::incidents {

std::string check_reason(const std::string& s) {
  const auto& known = rules::known_reasons();
  if (std::find(known.begin(), known.end(), s) != known.end()) return "";
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return "unknown reason \"" + s + "\"; known: " + list;
}

config::Schema detect_schema(DetectConfig& d) {
  using namespace config;
  return Schema{
      strlist("reasons", &d.rules.reasons, "failure reasons to detect", check_reason),
      duration("resolveAfter", &d.resolve_after, "healthy this long → resolved", false),
      duration("renotifyAfter", &d.renotify_after, "reminder for open incidents; 0: never", true),
      duration("flapHoldDown", &d.flap_hold_down,
               "a recurrence this soon after resolving reopens the incident silently", true),
      strlist("ignoreContainers", &d.rules.ignore_containers,
              "container names never reported (e.g. sidecars)"),
      strmap("severity", &d.severity,
             "severity per reason: critical, warning or info (a reason not listed: warning)",
             [](const std::string& reason, const std::string& sev) {
               if (auto e = check_reason(reason); !e.empty()) return e;
               if (sev != "critical" && sev != "warning" && sev != "info")
                 return "severity must be critical, warning or info, got \"" + sev + "\"";
               return std::string();
             }),
      strmap("runbooks", &d.runbooks,
             "runbook URL per reason; {cluster} {namespace} {workload} {container} {reason} "
             "are replaced, URL-encoded",
             [](const std::string& reason, const std::string& url) {
               if (auto e = check_reason(reason); !e.empty()) return e;
               return check_runbook_template(url);
             })};
}

config::Schema state_schema(StateConfig& s) {
  using namespace config;
  return Schema{str("dir", &s.dir, "directory for incident state and the outbox"),
                duration("outboxMaxAge", &s.outbox_max_age,
                         "undelivered messages older than this are dropped (logged with the "
                         "incident id)",
                         false)};
}

void validate(const DetectConfig& d, config::Ctx& ctx) {
  if (d.rules.reasons.empty()) ctx.error("detect.reasons", "must list at least one reason");
}

void validate(const StateConfig& s, config::Ctx& ctx) {
  if (s.dir.empty()) ctx.error("state.dir", "must not be empty");
}

IncidentSettings tracker_settings(const DetectConfig& d, const std::string& cluster) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  IncidentSettings s;
  s.cluster = cluster;
  s.resolve_after = duration_cast<seconds>(d.resolve_after);
  s.renotify_after = duration_cast<seconds>(d.renotify_after);
  s.flap_hold_down = duration_cast<seconds>(d.flap_hold_down);
  s.sink_confirms_alerts = true;
  s.severity = d.severity;
  s.runbooks = d.runbooks;
  return s;
}

}  // namespace podmedic::incidents
