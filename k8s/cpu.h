#pragma once

#include <string>

// Which SIMD kernel the watch decoder was compiled with, and whether this CPU can run the build.
// Thread-safety: both functions are pure; call them from any thread.
namespace podmedic::k8s {

// The simdjson on-demand kernel compiled into podmedic's decoder ("haswell", "westmere",
// "fallback", ...). On-demand picks it at compile time from the target flags (the library's
// run-time dispatch does not apply to it), so this names the kernel that really runs.
const char* json_kernel();

// True when the CPU has every instruction set the build was compiled for (x86-64-v3 + PCLMUL
// unless built with PODMEDIC_PORTABLE=ON). Otherwise false, and *missing (when given) names the
// absent features, e.g. "avx2 pclmul", for a start-up error message.
bool cpu_supported(std::string* missing);

}  // namespace podmedic::k8s
