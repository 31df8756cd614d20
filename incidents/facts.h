#pragma once
// Facts: the rules-based text about an incident, in one place. Every reader of it — the
// notifiers (Slack, webhook), the console/log notifier and the /api/incidents snapshot — gets the
// same line from here. Built by the composition root from narrow references before anything that
// uses it (nothing is bound later); reads the informer caches, so it is called on the pipeline
// thread only (not thread-safe, like the stores). The event message it cites is cluster text:
// sealed by the redactor first, then cut (at a UTF-8 character boundary).
#include <functional>
#include <string>
#include <string_view>

#include "core/interner.h"
#include "core/redacted.h"
#include "incidents/incident.h"
#include "incidents/tracker.h"
#include "watcher/event_store.h"
#include "watcher/pod_store.h"

namespace podmedic::incidents {

class Facts {
 public:
  // The redactor's seal (diagnosis::Redactor::seal): incidents do not depend on diagnosis.
  using Seal = std::function<Redacted(std::string_view)>;
  // The most bytes of an event message that the facts cite (after redaction).
  static constexpr std::size_t kMaxEventMessage = 160;

  // All references must outlive this object.
  Facts(const watcher::PodStore& pods, const watcher::EventStore& events, const Interner& interner,
        Seal seal);

  // One line, e.g. "[shop] OOMKilled Deployment/cart container app: 3 pods, exit 137 (SIGKILL: out
  // of memory or killed), 4 restarts, memory limit 256Mi, after running 3 h | OOMKilling: <event
  // message> | termination message: <message>". What the rollout changed comes first, when the
  // incident has changes ("…container app: after the rollout: image api:1.9.1 (was api:1.9.0);
  // env DB_HOST added | 3 pods, …"). The container facts, the newest warning event and the
  // termination message come from the first pod of the incident that is still in the store;
  // without one, only what the incident itself records.
  std::string describe(const Incident& inc) const;
  // The line for a resolved incident: "[shop] OOMKilled Deployment/cart container app: resolved
  // after 120s (3 pods, 4 restarts)". Reads only the incident.
  static std::string resolved(const Incident& inc);
  // The line the console/log notifier shows for an event: resolved() for kResolved, else
  // describe().
  std::string for_event(EventType type, const Incident& inc) const;

 private:
  const watcher::PodStore& pods_;
  const watcher::EventStore& events_;
  const Interner& interner_;
  Seal seal_;
};

}  // namespace podmedic::incidents
