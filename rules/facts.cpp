#include "rules/facts.h"

#include "core/units.h"
#include "rules/detect.h"

namespace podmedic::rules {

std::string human_duration(std::int64_t s) {
  if (s < 0) s = 0;
  auto two = [](std::int64_t a, const char* ua, std::int64_t b, const char* ub) {
    std::string out = std::to_string(a) + " " + ua;
    if (b) out += " " + std::to_string(b) + " " + ub;
    return out;
  };
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return two(s / 60, "min", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "min");
  return two(s / 86400, "d", s % 86400 / 3600, "h");
}

int termination_signal(const k8s::ContainerState& t) {
  if (t.signal > 0) return t.signal;
  if (t.exit_code > 128 && t.exit_code < 160) return t.exit_code - 128;
  return 0;
}

std::string signal_name(int signal) {
  switch (signal) {
    case 1:
      return "SIGHUP";
    case 2:
      return "SIGINT";
    case 6:
      return "SIGABRT";
    case 7:
      return "SIGBUS";
    case 9:
      return "SIGKILL";
    case 11:
      return "SIGSEGV";
    case 15:
      return "SIGTERM";
    default:
      return "signal " + std::to_string(signal);
  }
}

namespace {

// The termination to describe: the terminated state itself, else lastState.
const k8s::ContainerState* terminated(const k8s::ContainerView& c) {
  if (c.state.kind == k8s::ContainerState::kTerminated) return &c.state;
  if (c.last.kind == k8s::ContainerState::kTerminated) return &c.last;
  return nullptr;
}

}  // namespace

const std::string& termination_message(const k8s::ContainerView& c) {
  static const std::string kNone;
  if (c.state.kind == k8s::ContainerState::kTerminated) return c.message;
  if (c.last.kind == k8s::ContainerState::kTerminated) return c.last_message;
  return kNone;
}

std::string run_time(const k8s::ContainerView& c) {
  const auto* t = terminated(c);
  if (!t || !t->started_at || t->finished_at < t->started_at) return "";
  const std::int64_t ran = t->finished_at - t->started_at;
  if (ran < kStartupSeconds) return "crashed " + human_duration(ran) + " after start (at start-up)";
  return "after running " + human_duration(ran);
}

std::string last_termination(const k8s::ContainerView& c, const Interner& in) {
  const auto* t = terminated(c);
  if (!t) return "";
  std::string s = t->reason ? std::string(in.view(t->reason)) : std::string("terminated");
  s += ", exit " + std::to_string(t->exit_code) + " (" + exit_code_meaning(t->exit_code) + ")";
  if (int sig = termination_signal(*t))
    s += ", signal " + std::to_string(sig) + " (" + signal_name(sig) + ")";
  if (auto ran = run_time(c); !ran.empty()) s += ", " + ran;
  return s;
}

std::vector<std::string> init_container_facts(const k8s::PodView& pod, const Interner& in) {
  std::vector<std::string> out;
  for (const auto& c : pod.containers) {
    if (!c.init) continue;
    // Completed: terminated with exit 0 (init containers run one after the other, each once).
    if (c.state.kind == k8s::ContainerState::kTerminated && c.state.exit_code == 0) continue;
    std::string s = "init container " + std::string(in.view(c.name)) + ": ";
    switch (c.state.kind) {
      case k8s::ContainerState::kRunning:
        s += "still running";
        if (c.state.started_at) s += " since " + format_rfc3339(c.state.started_at);
        break;
      case k8s::ContainerState::kWaiting:
        s += "waiting (" + std::string(in.view(c.state.reason)) + ")";
        break;
      case k8s::ContainerState::kTerminated:
      case k8s::ContainerState::kNone:
        s += c.has_status ? "not started yet" : "no status yet";
        break;
    }
    if (const auto t = last_termination(c, in); !t.empty()) s += "; last ended: " + t;
    s += ", " + std::to_string(c.restart_count) + " restarts; the app containers wait for it";
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::string> probe_meaning(std::string_view reason, std::string_view message) {
  auto starts = [&](std::string_view p) { return message.substr(0, p.size()) == p; };
  if (reason == "Unhealthy") {
    if (starts("Liveness probe failed") || starts("Liveness probe errored"))
      return "its liveness probe fails: the kubelet kills and restarts it (killed by its liveness "
             "probe, not a crash of its own)";
    if (starts("Startup probe failed") || starts("Startup probe errored"))
      return "its startup probe fails: killed by its startup probe before it finished starting "
             "(a slow start or a too short failureThreshold × periodSeconds)";
    if (starts("Readiness probe failed") || starts("Readiness probe errored"))
      return "its readiness probe fails: not restarted for it, only taken out of its Services";
    return std::nullopt;
  }
  if (reason == "Killing" && message.find("failed liveness probe") != std::string_view::npos)
    return "killed by its liveness probe";
  if (reason == "Killing" && message.find("failed startup probe") != std::string_view::npos)
    return "killed by its startup probe";
  return std::nullopt;
}

std::string oom_verdict(std::string_view limit, std::string_view request, std::string_view node,
                        const NodeMemory& mem) {
  const std::string sizes = "limit " +
                            (limit.empty() ? std::string("none (unbounded)") : std::string(limit)) +
                            ", request " + (request.empty() ? "none" : std::string(request));
  const std::string node_name =
      node.empty() ? std::string("its node") : "node " + std::string(node);
  if (!mem.known)
    return "memory " + sizes + "; the node's state is unknown (" + mem.unknown_why + ")";
  if (mem.memory_pressure == "True" || !mem.node_oom_events.empty()) {
    std::string why;
    if (mem.memory_pressure == "True") {
      why = "MemoryPressure True";
      if (mem.pressure_since) why += " since " + format_rfc3339(mem.pressure_since);
    }
    for (const auto& e : mem.node_oom_events) why += (why.empty() ? "" : "; ") + e;
    return node_name + " ran out of memory (" + why +
           "): the node, not only the container's own limit, caused the kill (memory " + sizes +
           ")";
  }
  if (limit.empty())
    return "no memory limit, and " + node_name +
           " reported no memory pressure: the kernel's OOM killer chose it (memory " + sizes + ")";
  return "the container hit its own memory limit (" + sizes + "); " + node_name +
         " reported no memory pressure";
}

bool node_memory_event(std::string_view reason) {
  for (std::string_view r :
       {"SystemOOM", "OOMKilling", "EvictionThresholdMet", "NodeHasInsufficientMemory", "Evicted"})
    if (reason == r) return true;
  return false;
}

std::string change_phrase(std::string_view field, std::string_view container, std::string_view from,
                          std::string_view to) {
  // The container is named only where it is the news (added, removed): most pods have one.
  std::string f(field), a(from), b(to);
  if (field == "image") {
    if (a.empty()) return "container " + std::string(container) + " added (image " + b + ")";
    if (b.empty()) return "container " + std::string(container) + " removed (image " + a + ")";
    return "image " + b + " (was " + a + ")";
  }
  if (a.empty()) return f + " " + b + " added";
  if (b.empty()) return f + " " + a + " removed";
  return f + " " + b + " (was " + a + ")";
}

}  // namespace podmedic::rules
