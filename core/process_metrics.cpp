#include "core/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "core/parse.h"

namespace podmedic {

namespace {

// A whole small /proc file (at most 64 KiB: /proc/self/stat is one line, /proc/stat a few KiB
// per CPU); empty when it cannot be read.
std::string read_small(const char* path) {
  constexpr std::size_t kMax = 64 * 1024;
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() >= kMax) break;
  }
  ::close(fd);
  return out;
}

std::optional<double> number(std::string_view s) {
  auto v = parse::integer<std::uint64_t>(s);
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  // "pid (comm) state ppid ...": comm ends at the LAST ')'.
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  text.remove_prefix(close + 1);
  // Fields from 3 (state) on; field n is fields[n - 3].
  std::vector<std::string_view> fields;
  while (!text.empty() && fields.size() < 24) {
    auto start = text.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    auto end = text.find_first_of(" \n");
    fields.push_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
  }
  if (fields.size() < 22) return std::nullopt;
  auto utime = number(fields[11]), stime = number(fields[12]), start = number(fields[19]),
       vsize = number(fields[20]), rss = number(fields[21]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  return ProcStat{*utime, *stime, *start, *vsize, *rss};
}

std::optional<double> parse_boot_time(std::string_view proc_stat) {
  for (std::size_t pos = 0; pos < proc_stat.size();) {
    auto nl = proc_stat.find('\n', pos);
    auto line = proc_stat.substr(pos, nl == std::string_view::npos ? proc_stat.npos : nl - pos);
    if (line.rfind("btime ", 0) == 0) return number(line.substr(6));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return std::nullopt;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  if (auto st = parse_proc_stat(read_small("/proc/self/stat")); st && ticks > 0) {
    out.push_back(family("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", MetricType::Counter,
                         (st->utime_ticks + st->stime_ticks) / ticks));
    out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::Gauge, st->rss_pages * page));
    out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::Gauge, st->vsize_bytes));
    if (auto boot = parse_boot_time(read_small("/proc/stat"))) {
      out.push_back(family("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge, *boot + st->start_ticks / ticks));
    }
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    double n = 0;
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                         n - 1));  // the directory listing's own descriptor
  }
  if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    out.push_back(family("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, static_cast<double>(lim.rlim_cur)));
  }
  return out;
}

}  // namespace podmedic
