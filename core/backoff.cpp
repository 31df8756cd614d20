#include "core/backoff.h"

#include <algorithm>

namespace podmedic {

std::chrono::milliseconds Backoff::next(Clock::time_point now,
                                        std::chrono::milliseconds retry_after) {
  if (last_failure_ != Clock::time_point{} && now - last_failure_ > policy_.reset_after) reset();
  last_failure_ = now;
  current_ = current_.count() == 0 ? policy_.initial : std::min(current_ * 2, policy_.cap);
  std::uniform_real_distribution<double> dist(0.0, policy_.jitter);
  auto delay = std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(current_.count()) * (1.0 + dist(rng_))));
  return std::max(delay, retry_after);
}

}  // namespace podmedic
