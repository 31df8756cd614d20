#pragma once
// FakeClock: the Clock seam under test control. advance() moves both clocks together.
#include <chrono>

#include "core/clock.h"

namespace podmedic::test {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t unix_start = 1'790'000'000) : unix_(unix_start) {}
  std::chrono::steady_clock::time_point now() const override { return steady_; }
  std::int64_t unix_seconds() const override { return unix_; }
  void advance(std::chrono::seconds d) {
    steady_ += d;
    unix_ += d.count();
  }

 private:
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1)};
  std::int64_t unix_;
};

}  // namespace podmedic::test
