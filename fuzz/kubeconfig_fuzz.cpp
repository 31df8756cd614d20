// The kubeconfig loader. The file is written to a private temp dir and loaded as a user's
// ~/.kube/config would be. Loading never runs an exec plugin (that happens lazily when a
// token is needed, which this target never asks for).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "k8s/connection.h"

#include "core/log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  static std::string path = [] {
    char tmpl[] = "/tmp/podmedic-fuzz-kubeconfig-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    return std::string(tmpl) + "/config";
  }();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto r = podmedic::k8s::load_kubeconfig({path}, "");
  (void)r;
  return 0;
}
