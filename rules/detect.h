#pragma once
// Detection rules: a pure function of a pod's compact view before and after a change. No I/O, no
// clock: it reports containers that newly entered a failing state (CrashLoopBackOff,
// ImagePullBackOff with ErrImagePull folded in, OOMKilled in state or lastState for a new
// termination, and optionally other waiting reasons). Thread-safe (no shared state).
// Incidents (fingerprints, grouping, cooldown) build on these findings.
#include <cstdint>
#include <string>
#include <vector>

#include "core/interner.h"
#include "k8s/objects.h"

namespace podmedic::rules {

struct DetectSettings {
  std::vector<std::string> reasons{"CrashLoopBackOff", "ImagePullBackOff", "OOMKilled"};
  std::vector<std::string> ignore_containers;  // container names never reported (sidecars, ...)
};

// Reasons detection knows how to evaluate; others are configuration errors.
const std::vector<std::string>& known_reasons();

struct Finding {
  Sym container = 0;
  bool init = false;
  std::string reason;  // incident reason (ErrImagePull reported as ImagePullBackOff)
  std::int32_t exit_code = 0;
  std::uint32_t restarts = 0;
  std::int64_t terminated_at = 0;
};

// Compiled settings: reason symbols looked up once.
class Detector {
 public:
  Detector(Interner& interner, const DetectSettings& settings);
  // Findings in `after` that `before` (null for a new pod) did not already have.
  std::vector<Finding> evaluate(const k8s::PodView* before, const k8s::PodView& after) const;
  // Every failing container of `pod`, regardless of history.
  std::vector<Finding> current(const k8s::PodView& pod) const;

 private:
  bool wants(std::string_view reason) const;
  void failing(const k8s::PodView& pod, std::vector<Finding>& out) const;
  Interner& in_;
  std::vector<std::string> reasons_;
  std::vector<Sym> ignored_;
  Sym oom_, err_image_pull_, image_pull_backoff_, crashloop_;
};

// What an exit code usually means (137 SIGKILL/OOM, 139 segfault, 143 SIGTERM, 126/127 command
// problems, 1/2 application errors).
std::string exit_code_meaning(int code);

// The failure in words, shared by an incident's facts and a pod's findings: "exit 137 (SIGKILL:
// out of memory or killed), 4 restarts", or "4 restarts" when the exit code is 0.
std::string exit_and_restarts(std::int32_t exit_code, std::uint32_t restarts);

// The container facts that matter for a reason: ", memory limit 256Mi" for OOMKilled,
// ", image repo/app:1.2" for ImagePullBackOff, else empty.
std::string container_facts(const std::string& reason, const k8s::ContainerView& c,
                            const Interner& in);

}  // namespace podmedic::rules
