#pragma once
// Clock seam: the pipeline reads time only through this, so tests drive a FakeClock.
// Implementations must be safe to call from any thread.
#include <atomic>
#include <chrono>

namespace podmedic {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall-clock Unix seconds, for timestamps shown to users and compared with the cluster's.
  virtual std::int64_t unix_seconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  std::int64_t unix_seconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// The process's one SystemClock, for defaults.
inline const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace podmedic
