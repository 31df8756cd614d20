#pragma once
// Parsing of the config's human units: durations ("30s", "5m", "1h30m", "250ms", "0") and sizes
// ("8000", "64KiB", "2MiB", "1GiB", "10KB"). Pure functions; thread-safe.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace podmedic {

Result<std::chrono::milliseconds> parse_duration(std::string_view text);
Result<std::uint64_t> parse_size(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);

// RFC3339 ("2024-05-01T10:00:00Z", fractional seconds and numeric offsets allowed) → Unix seconds.
// Returns 0 for empty or malformed input (Kubernetes uses null for "unset").
std::int64_t parse_rfc3339(std::string_view text);
std::string format_rfc3339(std::int64_t unix_seconds);

}  // namespace podmedic
