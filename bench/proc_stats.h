#pragma once
// /proc readings for the benchmarks: resident memory now and its high-water mark (resettable),
// and this process's CPU time.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <prometheus/registry.h>

namespace podmedic::bench {

inline long status_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  }
  return 0;
}
inline long rss_kib() {
  return status_kib("VmRSS:");
}
inline long hwm_kib() {
  return status_kib("VmHWM:");
}
inline void reset_hwm() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// User + system CPU seconds of this process (all its threads).
inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Sum of every series of a counter family (e.g. all podmedic_watch_events_total).
inline double family_total(prometheus::Registry& r, const std::string& name) {
  double n = 0;
  for (auto& f : r.Collect()) {
    if (f.name != name) continue;
    for (auto& m : f.metric) n += m.counter.value;
  }
  return n;
}

// Forks a simulator process: the child runs `serve(ready)` and calls `ready(port)` once it
// listens (then serves forever); the parent gets the child's pid and that port.
template <class Serve>
pid_t fork_simulator(Serve serve, unsigned short& port) {
  int p[2];
  if (pipe(p) != 0) std::abort();
  pid_t pid = fork();
  if (pid != 0) {
    close(p[1]);
    if (read(p[0], &port, sizeof port) != sizeof port) std::abort();
    close(p[0]);
    return pid;
  }
  close(p[0]);
  const int fd = p[1];
  serve([fd](unsigned short bound) {
    if (write(fd, &bound, sizeof bound) != sizeof bound) _exit(1);
    close(fd);
  });
  _exit(0);
}

}  // namespace podmedic::bench
