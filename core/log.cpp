#include "core/log.h"

#include "core/parse.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace podmedic::log {
namespace {

struct State {
  std::mutex mu;
  Level min = Level::kInfo;
  bool json = true;
  void (*sink)(std::string_view) = nullptr;
};

State& state() {
  static State s;
  return s;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
    case Level::kOff:
      return "error";
  }
  return "info";
}

std::string timestamp(bool with_date) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  if (with_date) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
  }
  return buf;
}

}  // namespace

void init(Level min_level, Format format) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.min = min_level;
  s.json = format == Format::kJson || (format == Format::kAuto && !isatty(STDERR_FILENO));
}

void set_sink(void (*sink)(std::string_view)) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.sink = sink;
}

bool enabled(Level level) {
  return level >= state().min;
}

void write(Level level, std::string_view component, std::string_view msg, Fields fields) {
  if (level < state().min) return;
  nlohmann::json obj = nlohmann::json::object();
  for (const auto& [k, v] : fields) obj[std::string(k)] = v;
  write_object(level, component, msg, obj);
}

void write_object(Level level, std::string_view component, std::string_view msg,
                  const nlohmann::json& fields) {
  auto& s = state();
  if (level < s.min) return;
  std::string line;
  if (s.json) {
    nlohmann::json j = {{"ts", timestamp(true)},
                        {"level", level_name(level)},
                        {"component", component},
                        {"msg", msg}};
    for (const auto& [k, v] : fields.items()) j[k] = v;
    // Replace invalid UTF-8 rather than throwing: messages may quote cluster data.
    line = parse::dump(j);
  } else {
    line = timestamp(false) + " " + level_name(level) + " [" + std::string(component) + "] " +
           std::string(msg);
    for (const auto& [k, v] : fields.items()) {
      line += " " + k + "=";
      const auto* text = v.get_ptr<const std::string*>();  // null unless a string
      line += text ? *text : parse::dump(v);
    }
  }
  line += '\n';
  std::lock_guard lock(s.mu);
  if (s.sink) {
    s.sink(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

void RateLimited::write(Level level, std::string_view component, std::string_view key,
                        std::string_view msg, Fields fields) {
  unsigned long suppressed = 0;
  {
    std::lock_guard lock(mu_);
    auto& slot = slots_[std::string(key)];
    auto now = std::chrono::steady_clock::now();
    if (slot.last != std::chrono::steady_clock::time_point{} && now - slot.last < interval_) {
      ++slot.suppressed;
      return;
    }
    slot.last = now;
    suppressed = std::exchange(slot.suppressed, 0);
  }
  nlohmann::json obj = nlohmann::json::object();
  for (const auto& [k, v] : fields) obj[std::string(k)] = v;
  if (suppressed > 0) obj["suppressed"] = suppressed;
  write_object(level, component, msg, obj);
}

}  // namespace podmedic::log
