#pragma once
// /proc readings for the benchmarks: resident memory now and its high-water mark (resettable),
// and this process's CPU time.
#include <sys/resource.h>

#include <fstream>
#include <string>

namespace podmedic::bench {

inline long status_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  }
  return 0;
}
inline long rss_kib() { return status_kib("VmRSS:"); }
inline long hwm_kib() { return status_kib("VmHWM:"); }
inline void reset_hwm() { std::ofstream("/proc/self/clear_refs") << "5"; }

// User + system CPU seconds of this process (all its threads).
inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace podmedic::bench
