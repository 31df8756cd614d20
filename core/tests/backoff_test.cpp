#include <catch2/catch.hpp>

#include "core/backoff.h"

using namespace podmedic;
using namespace std::chrono_literals;

TEST_CASE("backoff doubles with jitter in d 2d and caps") {
  Backoff b(BackoffPolicy{}, 42);
  auto t = Backoff::Clock::time_point{} + 1h;
  std::chrono::milliseconds expected_base = 800ms;
  for (int i = 0; i < 10; ++i) {
    auto d = b.next(t);
    t += 1s;
    INFO("attempt " << i);
    CHECK(d >= expected_base);
    CHECK(d < expected_base * 2);
    expected_base = std::min(expected_base * 2, std::chrono::milliseconds(30s));
  }
}

TEST_CASE("backoff honours Retry-After and resets after a quiet period") {
  Backoff b(BackoffPolicy{}, 7);
  auto t = Backoff::Clock::time_point{} + 1h;
  CHECK(b.next(t, 5s) >= 5s);
  b.next(t + 1s);
  b.next(t + 2s);
  auto after_quiet = b.next(t + 10min);
  CHECK(after_quiet < 1600ms);
}
