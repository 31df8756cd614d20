// Build facts for `podmedic version`. PODMEDIC_GIT_COMMIT and PODMEDIC_BUILD_DATE are set on
// this file alone by CMake at configure time (app/CMakeLists.txt), so a new commit recompiles
// one file, not the project.
#include <simdjson.h>

#include "k8s/cpu.h"

#include "app/commands.h"

#ifndef PODMEDIC_GIT_COMMIT
#define PODMEDIC_GIT_COMMIT "unknown"
#endif
#ifndef PODMEDIC_BUILD_DATE
#define PODMEDIC_BUILD_DATE "unknown"
#endif

namespace podmedic::app {

std::string version_text() {
#if defined(__clang__)
  const std::string compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = "GCC " __VERSION__;
#else
  const std::string compiler = "unknown";
#endif
  // The watch decoder's on-demand kernel is compiled in (k8s/cpu.h); the library's run-time
  // choice applies only to its DOM API, which podmedic does not use on the watch path.
  return std::string("podmedic ") + PODMEDIC_VERSION + "\n" + "commit:   " + PODMEDIC_GIT_COMMIT +
         "\n" + "built:    " + PODMEDIC_BUILD_DATE + "\n" + "compiler: " + compiler + "\n" +
         "simdjson: " + k8s::json_kernel() + " (watch decoder, on-demand; library dispatch: " +
         simdjson::get_active_implementation()->name() + ")";
}

}  // namespace podmedic::app
