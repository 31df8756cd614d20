#include "core/units.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace podmedic {
namespace {
constexpr double kMaxDurationMs = 100.0 * 365 * 86'400'000;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::milliseconds(0);
  if (text.empty()) return Error{"empty duration"};
  double total_ms = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t i = 0;
    while (i < rest.size() && ((rest[i] >= '0' && rest[i] <= '9') || rest[i] == '.')) ++i;
    if (i == 0)
      return Error{"invalid duration \"" + std::string(text) + "\" (use e.g. 30s, 5m, 1h)"};
    double value = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + i, value);
    if (ec != std::errc() || p != rest.data() + i) {
      return Error{"invalid duration \"" + std::string(text) + "\""};
    }
    rest.remove_prefix(i);
    std::size_t j = 0;
    while (j < rest.size() && rest[j] >= 'a' && rest[j] <= 'z') ++j;
    std::string_view unit = rest.substr(0, j);
    rest.remove_prefix(j);
    double mult;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m")
      mult = 60'000;
    else if (unit == "h")
      mult = 3'600'000;
    else if (unit == "d")
      mult = 86'400'000;
    else
      return Error{"invalid duration \"" + std::string(text) + "\": unit must be ms, s, m, h or d"};
    total_ms += value * mult;
    // 100 years is more than any timeout or hold-down needs; beyond it the int64 milliseconds
    // (and every deadline computed from them) would overflow.
    if (!(total_ms <= kMaxDurationMs))
      return Error{"duration \"" + std::string(text) + "\" is too large (at most 100 years)"};
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(total_ms));
}

Result<std::uint64_t> parse_size(std::string_view text) {
  if (text.empty()) return Error{"empty size"};
  std::uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p == text.data()) {
    return Error{"invalid size \"" + std::string(text) + "\" (use e.g. 8000, 64KiB, 2MiB)"};
  }
  std::string_view unit(p, text.data() + text.size() - p);
  std::uint64_t mult;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB" || unit == "Ki")
    mult = 1024;
  else if (unit == "MiB" || unit == "Mi")
    mult = 1024 * 1024;
  else if (unit == "GiB" || unit == "Gi")
    mult = 1024ull * 1024 * 1024;
  else if (unit == "KB" || unit == "kB" || unit == "K")
    mult = 1000;
  else if (unit == "MB" || unit == "M")
    mult = 1000 * 1000;
  else if (unit == "GB" || unit == "G")
    mult = 1000ull * 1000 * 1000;
  else
    return Error{"invalid size \"" + std::string(text) +
                 "\": unit must be B, KiB, MiB, GiB, KB, MB or GB"};
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(value, mult, &bytes))
    return Error{"size \"" + std::string(text) + "\" is too large"};
  return bytes;
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms == 0) return "0";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

namespace {
int digits(std::string_view s, std::size_t pos, std::size_t n, bool& ok) {
  int v = 0;
  if (pos + n > s.size()) {
    ok = false;
    return 0;
  }
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') {
      ok = false;
      return 0;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
}  // namespace

std::int64_t parse_rfc3339(std::string_view s) {
  bool ok = true;
  if (s.size() < 20) return 0;
  int y = digits(s, 0, 4, ok), mo = digits(s, 5, 2, ok), d = digits(s, 8, 2, ok);
  int h = digits(s, 11, 2, ok), mi = digits(s, 14, 2, ok), se = digits(s, 17, 2, ok);
  if (!ok || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':' || mo < 1 || mo > 12 || d < 1 || d > 31) {
    return 0;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = digits(s, i + 1, 2, ok), om = digits(s, i + 4, 2, ok);
    if (!ok) return 0;
    offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
  } else if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z')) {
    return 0;
  }
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + se - offset;
}

std::string format_rfc3339(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace podmedic
