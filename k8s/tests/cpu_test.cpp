#include <catch2/catch.hpp>
#include <string>

#include "k8s/cpu.h"

using namespace podmedic;

TEST_CASE("the decoder runs simdjson's fast kernel on an x86-64-v3 build", "[cpu]") {
#if defined(PODMEDIC_REQUIRES_AVX2)
  // Built with -march=x86-64-v3 -mpclmul: on-demand must select haswell (or icelake when built
  // for AVX-512), never the scalar fallback that x86-64-v3 alone silently selects.
  const std::string kernel = k8s::json_kernel();
  CHECK((kernel == "haswell" || kernel == "icelake"));
  // A machine that runs this test runs the build: every required feature is present.
  std::string missing = "unset";
  CHECK(k8s::cpu_supported(&missing));
  CHECK(missing.empty());
#else
  CHECK(std::string(k8s::json_kernel()).size() > 0);
  CHECK(k8s::cpu_supported(nullptr));
#endif
}
