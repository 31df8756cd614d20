#include "incidents/facts.h"

#include "core/text.h"

#include "rules/detect.h"
#include "rules/facts.h"

namespace podmedic::incidents {

Facts::Facts(const watcher::PodStore& pods, const watcher::EventStore& events,
             const Interner& interner, Seal seal)
    : pods_(pods), events_(events), interner_(interner), seal_(std::move(seal)) {}

std::string Facts::describe(const Incident& inc) const {
  std::string s = "[" + inc.ns + "] " + inc.reason + " " + inc.workload.kind + "/" +
                  inc.workload.name + " container " + inc.container + ": ";
  // The change first: a failure right after a rollout is most often the rollout's doing. The
  // changes are redacted already (the evidence's session).
  if (!inc.changes.empty())
    s += "after the rollout: " + rules::describe_changes(inc.changes) + " | ";
  s += text::count_of(inc.all_pods.size(), "pod");
  s += ", " + rules::exit_and_restarts(inc.exit_code, inc.restarts);
  // Container facts from the first pod of the incident still in the store.
  for (const auto& name : inc.all_pods) {
    const auto* pod = pods_.find(inc.ns, name);
    if (!pod) continue;
    std::string termination;  // the termination message, cited after the event
    for (const auto& c : pod->containers) {
      if (interner_.view(c.name) != inc.container) continue;
      s += rules::container_facts(inc.reason, c, interner_);
      if (auto ran = rules::run_time(c); !ran.empty()) s += ", " + ran;
      // Redact, then cut (as the event message below).
      if (const auto& m = rules::termination_message(c); !m.empty())
        termination = std::string(text::cut_utf8(seal_(m).str(), kMaxEventMessage));
    }
    auto evs = events_.for_pod(inc.ns, name);
    if (!evs.empty()) {
      // Redact, then cut: a cut first could split a secret so that the redactor misses it.
      const Redacted message = seal_(evs.front()->message);
      s += " | " + std::string(interner_.view(evs.front()->reason)) + ": " +
           std::string(text::cut_utf8(message.str(), kMaxEventMessage));
    }
    if (!termination.empty()) s += " | termination message: " + termination;
    break;
  }
  return s;
}

std::string Facts::resolved(const Incident& inc) {
  return "[" + inc.ns + "] " + inc.reason + " " + inc.workload.kind + "/" + inc.workload.name +
         " container " + inc.container + ": resolved after " +
         std::to_string(inc.resolved_at - inc.first_seen) + "s (" +
         text::count_of(inc.all_pods.size(), "pod") + ", " +
         text::count_of(inc.restarts, "restart") + ")";
}

std::string Facts::for_event(EventType type, const Incident& inc) const {
  return type == EventType::kResolved ? resolved(inc) : describe(inc);
}

}  // namespace podmedic::incidents
