#pragma once
// Structured logging: one JSON object per line (ts, level, component, msg, fields), or human text
// when stderr is a TTY. Thread-safe (one mutex around the write). Never pass tokens, webhook URLs,
// prompts or raw pod logs as fields.
#include <chrono>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

namespace podmedic::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError, kOff };  // kOff: nothing (fuzzers)

using Fields = std::initializer_list<std::pair<std::string_view, nlohmann::json>>;

enum class Format { kAuto, kJson, kText };
void init(Level min_level, Format format = Format::kAuto);
// Redirects output (tests); nullptr restores stderr. The sink receives complete lines.
void set_sink(void (*sink)(std::string_view line));
bool enabled(Level level);
// Base writer: `fields` is a JSON object whose members are added to the line.
void write_object(Level level, std::string_view component, std::string_view msg,
                  const nlohmann::json& fields);
void write(Level level, std::string_view component, std::string_view msg, Fields fields = {});

inline void debug(std::string_view c, std::string_view m, Fields f = {}) {
  write(Level::kDebug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, Fields f = {}) {
  write(Level::kInfo, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, Fields f = {}) {
  write(Level::kWarn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, Fields f = {}) {
  write(Level::kError, c, m, f);
}

// Logs a given key at most once per interval and counts what it suppressed, so a storm of malformed
// lines or a flapping connection produces one line per interval. Thread-safe.
class RateLimited {
 public:
  explicit RateLimited(std::chrono::steady_clock::duration interval = std::chrono::minutes(1))
      : interval_(interval) {}
  void write(Level level, std::string_view component, std::string_view key, std::string_view msg,
             Fields fields = {});

 private:
  struct Slot {
    std::chrono::steady_clock::time_point last{};
    unsigned long suppressed = 0;
  };
  std::chrono::steady_clock::duration interval_;
  std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
};

}  // namespace podmedic::log
