#pragma once
// Jittered exponential backoff in the manner of client-go's reflector: delays start at `initial`,
// double per failure, are drawn from [d, 2d) and capped at `cap` (so they settle in [cap, 2cap));
// the sequence resets after `reset_after` without a failure. A server's Retry-After raises the
// delay to at least that value. Not thread-safe; owned by one task.
#include <chrono>
#include <random>

namespace podmedic {

struct BackoffPolicy {
  std::chrono::milliseconds initial{800};
  std::chrono::milliseconds cap{30'000};
  std::chrono::milliseconds reset_after{120'000};
  double jitter = 1.0;
};

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Backoff(BackoffPolicy policy, unsigned seed = std::random_device{}())
      : policy_(policy), rng_(seed) {}

  // The delay to wait before the next attempt, given `now` and an optional server hint.
  std::chrono::milliseconds next(
      Clock::time_point now, std::chrono::milliseconds retry_after = std::chrono::milliseconds(0));
  void reset() { current_ = std::chrono::milliseconds(0); }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937 rng_;
  std::chrono::milliseconds current_{0};
  Clock::time_point last_failure_{};
};

}  // namespace podmedic
