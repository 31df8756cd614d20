#pragma once
// ProcessCollector: the standard process_* metrics of every Prometheus client (Go's and
// Python's names, without our prefix) read from /proc/self at scrape time:
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds. A file that cannot be read
// or parsed leaves its metrics out of that scrape (never an exception, never a made-up value).
// Stateless: Collect() is safe from any thread (the HTTP thread calls it).
#include <optional>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace podmedic {

// The fields of /proc/<pid>/stat that the collector reports (raw kernel units).
struct ProcStat {
  double utime_ticks = 0, stime_ticks = 0, start_ticks = 0;
  double vsize_bytes = 0, rss_pages = 0;
};
// Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses).
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// The "btime" line of /proc/stat: boot time in Unix seconds.
std::optional<double> parse_boot_time(std::string_view proc_stat);

class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace podmedic
