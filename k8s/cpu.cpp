#include "k8s/cpu.h"

#include <simdjson.h>

#if defined(PODMEDIC_REQUIRES_AVX2)
#include <cpuid.h>
#endif

namespace podmedic::k8s {

const char* json_kernel() {
  return SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);
}

bool cpu_supported(std::string* missing) {
  std::string absent;
#if defined(PODMEDIC_REQUIRES_AVX2)
  // The features -march=x86-64-v3 -mpclmul lets the compiler use anywhere, and that simdjson's
  // haswell kernel needs (AVX2, BMI1, LZCNT, PCLMUL); x86-64-v3 also implies the rest checked.
  __builtin_cpu_init();
  auto need = [&](bool have, const char* name) {
    if (have) return;
    if (!absent.empty()) absent += ' ';
    absent += name;
  };
  need(__builtin_cpu_supports("avx2"), "avx2");
  need(__builtin_cpu_supports("bmi"), "bmi");
  need(__builtin_cpu_supports("bmi2"), "bmi2");
  need(__builtin_cpu_supports("fma"), "fma");
  need(__builtin_cpu_supports("pclmul"), "pclmul");
  // clang 14's __builtin_cpu_supports knows neither lzcnt nor movbe: read CPUID.
  unsigned a = 0, b = 0, c = 0, d = 0;
  need(__get_cpuid(1, &a, &b, &c, &d) && (c & bit_MOVBE), "movbe");
  need(__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_LZCNT), "lzcnt");
#endif
  if (missing) *missing = absent;
  return absent.empty();
}

}  // namespace podmedic::k8s
