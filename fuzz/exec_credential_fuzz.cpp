// What a kubeconfig exec credential plugin prints (client.authentication.k8s.io ExecCredential).
#include <string>

#include "core/log.h"
#include "k8s/connection.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  std::string_view out(reinterpret_cast<const char*>(data), size);
  auto r = podmedic::k8s::ExecTokenSource::parse_credential(out);
  (void)r;
  return 0;
}
