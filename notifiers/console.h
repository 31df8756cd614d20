#pragma once
// ConsoleNotifier: incident events as human lines on a terminal (`podmedic demo`) or as structured
// log lines (`podmedic run`), each with the facts line (incidents::Facts::for_event), then handed
// on to the next sink (the Dispatcher), if any.
//
// Why a pass-through sink and not a Notifier behind the Dispatcher: a Notifier's messages are
// queued, persisted in the outbox, retried and delivered later on a worker thread; a console line
// is none of that — it is written at once, in event order, on the pipeline thread, and losing it
// in a crash loses nothing. And why not a fan-out over a list of sinks: there are only ever two
// (this one, then the dispatcher), so a `next` pointer is all the fan-out that is needed, with the
// order fixed (the line is written before the notifiers queue their messages, as before).
//
// Console lines (stdout by default), byte for byte what the demo always printed:
//   "OPENED   <facts>  (incident <id>)" — tags OPENED  , RESOLVED, REMINDER, DIAGNOSIS, DIGEST
//   "         likely cause (<model>): <diagnosis>" after OPENED and DIAGNOSIS when there is one.
// Log lines: component "incidents", message the event type (incident.opened, ...), level warn
// (info for resolved), fields id, fingerprint, namespace, reason, workload (Kind/name),
// container, pods, restarts, facts, diagnosis.
// Not thread-safe: called on the pipeline thread, like the Facts it reads.
#include <cstdio>

#include "incidents/facts.h"
#include "incidents/tracker.h"

namespace podmedic::notifiers {

class ConsoleNotifier final : public incidents::IncidentSink {
 public:
  enum class Mode { kLog, kConsole };
  // `facts` and `next` (may be null) must outlive this object; kConsole writes to `out`.
  ConsoleNotifier(Mode mode, const incidents::Facts& facts, incidents::IncidentSink* next = nullptr,
                  std::FILE* out = stdout)
      : mode_(mode), facts_(facts), next_(next), out_(out) {}

  void on_incident_event(const incidents::IncidentEvent& e) override;
  void on_pod_joined(const incidents::Incident& inc, const std::string& pod) override;

 private:
  Mode mode_;
  const incidents::Facts& facts_;
  incidents::IncidentSink* next_;
  std::FILE* out_;
};

}  // namespace podmedic::notifiers
