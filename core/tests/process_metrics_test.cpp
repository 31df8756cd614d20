// The process_* metrics: /proc parsing (hostile command names, short or garbled lines) and a
// live collection from this test process.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <map>

#include "core/process_metrics.h"

using namespace podmedic;

TEST_CASE("process metrics: /proc/self/stat with a hostile command name") {
  // comm may hold spaces and ')': fields count from the LAST ')'.
  const std::string line =
      "4242 (pod medic) (x) S 1 4242 4242 0 -1 4194560 1032 0 0 0 250 125 0 0 20 0 9 0 "
      "123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0\n";
  auto st = parse_proc_stat(line);
  REQUIRE(st);
  CHECK(st->utime_ticks == 250);
  CHECK(st->stime_ticks == 125);
  CHECK(st->start_ticks == 123456);
  CHECK(st->vsize_bytes == 987654321);
  CHECK(st->rss_pages == 2048);
  CHECK_FALSE(parse_proc_stat(""));
  CHECK_FALSE(parse_proc_stat("4242 (podmedic) S 1 2 3"));
  CHECK_FALSE(
      parse_proc_stat("4242 podmedic S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21"));
  CHECK_FALSE(parse_proc_stat(
      "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 125 0 0 20 0 9 0 1 2 3 4\n"));  // utime not a number
  CHECK_FALSE(
      parse_proc_stat("1 (a) S 1 1 1 0 -1 0 0 0 0 0 -5 125 0 0 20 0 9 0 1 2 3 4\n"));  // negative
  CHECK(parse_boot_time("cpu  1 2 3\nbtime 1790000000\nprocesses 9\n") == 1790000000.0);
  CHECK_FALSE(parse_boot_time("cpu 1 2 3\n"));
  CHECK_FALSE(parse_boot_time("btime 99999999999999999999999\n"));
}

TEST_CASE("process metrics: a live collection has every series with sane values") {
  ProcessCollector c;
  std::map<std::string, prometheus::MetricFamily> by_name;
  for (auto& f : c.Collect()) by_name[f.name] = f;
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds"}) {
    INFO(name);
    REQUIRE(by_name.count(name) == 1);
    REQUIRE(by_name[name].metric.size() == 1);
  }
  CHECK(by_name["process_cpu_seconds_total"].type == prometheus::MetricType::Counter);
  CHECK(by_name["process_resident_memory_bytes"].metric[0].gauge.value > 1e6);
  CHECK(by_name["process_virtual_memory_bytes"].metric[0].gauge.value >=
        by_name["process_resident_memory_bytes"].metric[0].gauge.value);
  const double start = by_name["process_start_time_seconds"].metric[0].gauge.value;
  CHECK(start > 1.5e9);
  CHECK(start <= static_cast<double>(::time(nullptr)) + 1);
  // One more descriptor open: one more counted.
  const double before = by_name["process_open_fds"].metric[0].gauge.value;
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  double after = -1;
  for (auto& f : c.Collect()) {
    if (f.name == "process_open_fds") after = f.metric[0].gauge.value;
  }
  ::close(fd);
  CHECK(after == before + 1);
}
