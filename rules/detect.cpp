#include "rules/detect.h"

#include "core/text.h"

#include <algorithm>

namespace podmedic::rules {

const std::vector<std::string>& known_reasons() {
  static const std::vector<std::string> r = {"CrashLoopBackOff",
                                             "ImagePullBackOff",
                                             "ErrImagePull",
                                             "OOMKilled",
                                             "CreateContainerConfigError",
                                             "CreateContainerError",
                                             "RunContainerError",
                                             "InvalidImageName",
                                             "ErrImageNeverPull",
                                             "ImageInspectError",
                                             "RegistryUnavailable",
                                             "PreStartHookError",
                                             "PostStartHookError",
                                             "StartError"};
  return r;
}

Detector::Detector(Interner& interner, const DetectSettings& settings)
    : in_(interner),
      reasons_(settings.reasons),
      oom_(interner.intern("OOMKilled")),
      err_image_pull_(interner.intern("ErrImagePull")),
      image_pull_backoff_(interner.intern("ImagePullBackOff")),
      crashloop_(interner.intern("CrashLoopBackOff")) {
  for (const auto& name : settings.ignore_containers) ignored_.push_back(interner.intern(name));
}

bool Detector::wants(std::string_view reason) const {
  if (reason == "ErrImagePull") reason = "ImagePullBackOff";
  return std::find(reasons_.begin(), reasons_.end(), reason) != reasons_.end();
}

void Detector::failing(const k8s::PodView& pod, std::vector<Finding>& out) const {
  // A pod being deleted is going away on purpose; an opted-out pod is not ours to judge.
  if (pod.deleting_since != 0 || pod.opted_out) return;
  for (const auto& c : pod.containers) {
    if (std::find(ignored_.begin(), ignored_.end(), c.name) != ignored_.end()) continue;
    Finding f;
    f.container = c.name;
    f.init = c.init;
    f.restarts = c.restart_count;
    // OOMKilled shows briefly in state.terminated, then only in lastState while the container
    // waits in CrashLoopBackOff: the incident is the OOM, not the back-off.
    const k8s::ContainerState* oom = nullptr;
    if (c.state.kind == k8s::ContainerState::kTerminated && c.state.reason == oom_)
      oom = &c.state;
    else if (c.last.kind == k8s::ContainerState::kTerminated && c.last.reason == oom_ &&
             c.state.kind != k8s::ContainerState::kRunning)
      oom = &c.last;
    if (oom && wants("OOMKilled")) {
      f.reason = "OOMKilled";
      f.exit_code = oom->exit_code;
      f.terminated_at = oom->finished_at;
      out.push_back(f);
      continue;
    }
    if (c.state.kind == k8s::ContainerState::kWaiting && c.state.reason != 0) {
      std::string_view r = in_.view(c.state.reason);
      if (!wants(r)) continue;
      f.reason = c.state.reason == err_image_pull_ ? "ImagePullBackOff" : std::string(r);
      if (c.last.kind == k8s::ContainerState::kTerminated) {
        f.exit_code = c.last.exit_code;
        f.terminated_at = c.last.finished_at;
      }
      out.push_back(f);
    }
  }
}

std::vector<Finding> Detector::current(const k8s::PodView& pod) const {
  std::vector<Finding> out;
  failing(pod, out);
  return out;
}

std::vector<Finding> Detector::evaluate(const k8s::PodView* before,
                                        const k8s::PodView& after) const {
  std::vector<Finding> now;
  failing(after, now);
  if (now.empty() || !before) return now;
  std::vector<Finding> prev;
  failing(*before, prev);
  std::erase_if(now, [&](const Finding& f) {
    return std::any_of(prev.begin(), prev.end(), [&](const Finding& p) {
      // Same failure as before: only a new termination (a new OOM) is news.
      return p.container == f.container && p.init == f.init && p.reason == f.reason &&
             p.terminated_at == f.terminated_at;
    });
  });
  return now;
}

std::string exit_code_meaning(int code) {
  switch (code) {
    case 0:
      return "exited normally";
    case 1:
      return "application error";
    case 2:
      return "application error (often a misused command or panic)";
    case 126:
      return "command not executable";
    case 127:
      return "command not found";
    case 128:
      return "invalid exit or start error";
    case 137:
      return "SIGKILL: out of memory or killed";
    case 139:
      return "SIGSEGV: segmentation fault";
    case 143:
      return "SIGTERM: asked to stop";
    default:
      return code > 128 ? "killed by signal " + std::to_string(code - 128) : "application error";
  }
}

std::string exit_and_restarts(std::int32_t exit_code, std::uint32_t restarts) {
  std::string s;
  if (exit_code != 0)
    s = "exit " + std::to_string(exit_code) + " (" + exit_code_meaning(exit_code) + "), ";
  return s + text::count_of(restarts, "restart");
}

std::string container_facts(const std::string& reason, const k8s::ContainerView& c,
                            const Interner& in) {
  if (reason == "OOMKilled") {
    return ", memory limit " +
           (c.mem_limit ? std::string(in.view(c.mem_limit)) : std::string("none (unbounded)"));
  }
  if (reason == "ImagePullBackOff") return ", image " + std::string(in.view(c.image));
  return "";
}

}  // namespace podmedic::rules
