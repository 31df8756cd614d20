#include "notifiers/console.h"

#include "core/log.h"

namespace podmedic::notifiers {

namespace {

const char* console_tag(incidents::EventType t) {
  switch (t) {
    case incidents::EventType::kOpened:
      return "OPENED  ";
    case incidents::EventType::kResolved:
      return "RESOLVED";
    case incidents::EventType::kReminder:
      return "REMINDER";
    case incidents::EventType::kDiagnosed:
      return "DIAGNOSIS";
    case incidents::EventType::kDigest:
      return "DIGEST  ";
  }
  return "DIGEST  ";
}

}  // namespace

void ConsoleNotifier::on_incident_event(const incidents::IncidentEvent& e) {
  for (const auto* inc : e.incidents) {
    const std::string facts = facts_.for_event(e.type, *inc);
    if (mode_ == Mode::kConsole) {
      std::fprintf(out_, "%s %s  (incident %s)\n", console_tag(e.type), facts.c_str(),
                   inc->id.c_str());
      bool show = !inc->diagnosis.empty() && (e.type == incidents::EventType::kOpened ||
                                              e.type == incidents::EventType::kDiagnosed);
      if (show) {
        std::fprintf(out_, "         likely cause (%s): %s\n", inc->diagnosis_model.c_str(),
                     inc->diagnosis.c_str());
      }
      std::fflush(out_);
    } else {
      auto level =
          e.type == incidents::EventType::kResolved ? log::Level::kInfo : log::Level::kWarn;
      log::write(level, "incidents", incidents::to_string(e.type),
                 {{"id", inc->id},
                  {"fingerprint", inc->fingerprint},
                  {"namespace", inc->ns},
                  {"reason", inc->reason},
                  {"workload", inc->workload.kind + "/" + inc->workload.name},
                  {"container", inc->container},
                  {"pods", inc->all_pods.size()},
                  {"restarts", inc->restarts},
                  {"facts", facts},
                  {"diagnosis", inc->diagnosis}});
    }
  }
  if (next_) next_->on_incident_event(e);
}

void ConsoleNotifier::on_pod_joined(const incidents::Incident& inc, const std::string& pod) {
  if (next_) next_->on_pod_joined(inc, pod);
}

}  // namespace podmedic::notifiers
