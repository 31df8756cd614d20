// The incident state file (incidents.json under state.dir, or the HA state ConfigMap another
// replica wrote): loaded through the real StateFile and tracker, which set aside what they
// cannot read.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/clock.h"
#include "incidents/state_file.h"
#include "incidents/tracker.h"

#include "core/log.h"

using namespace podmedic;

namespace {
struct NullSink final : incidents::IncidentSink {
  void on_incident_event(const incidents::IncidentEvent&) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  static std::string dir = [] {
    char tmpl[] = "/tmp/podmedic-fuzz-state-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    return std::string(tmpl);
  }();
  std::string file = dir + "/incidents.json";
  FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  static SystemClock clock;
  NullSink sink;
  incidents::StateFile state(dir);
  incidents::IncidentTracker tracker(incidents::IncidentSettings{}, clock, sink, &state);
  tracker.load();
  tracker.flush();
  // Whatever was set aside: keep the directory from filling up.
  ::unlink(file.c_str());
  return 0;
}
