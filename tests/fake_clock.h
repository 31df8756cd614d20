#pragma once
// FakeClock: the Clock seam under test control. advance() moves both clocks together. Safe to read
// from any thread while the test advances it (the dispatcher's workers read it).
#include <atomic>
#include <chrono>

#include "core/clock.h"

namespace podmedic::test {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t unix_start = 1'790'000'000) : unix_(unix_start) {}
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(steady_.load()));
  }
  std::int64_t unix_seconds() const override { return unix_.load(); }
  void advance(std::chrono::seconds d) {
    steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
    unix_ += d.count();
  }

 private:
  std::atomic<std::chrono::steady_clock::rep> steady_{
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::hours(1))
          .count()};
  std::atomic<std::int64_t> unix_;
};

}  // namespace podmedic::test
