// Retry-After (delta-seconds and HTTP dates), RFC 3339 timestamps, durations, sizes, ports and
// integers: the small parsers every peer and config value passes through; and the /proc lines
// of the process_* metrics.
#include <cstdlib>
#include <string>

#include "core/http.h"
#include "core/parse.h"
#include "core/process_metrics.h"
#include "core/units.h"

#include "core/log.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  std::string s(reinterpret_cast<const char*>(data), size);
  long ra = http::parse_retry_after(s, 1'700'000'000);
  if (ra < -1 || ra > http::kMaxRetryAfterSeconds) std::abort();
  (void)parse_rfc3339(s);
  auto d = parse_duration(s);
  if (d.ok() && d->count() < 0) std::abort();
  (void)parse_size(s);
  (void)parse::port(s);
  (void)parse::integer<long>(s);
  (void)parse::integer<unsigned>(s);
  if (auto st = parse_proc_stat(s); st && (st->utime_ticks < 0 || st->rss_pages < 0)) std::abort();
  (void)parse_boot_time(s);
  return 0;
}
