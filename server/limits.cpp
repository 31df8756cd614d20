#include "server/limits.h"

#include <sys/resource.h>

#include <cstdint>
#include <string>

#include "core/log.h"

namespace podmedic::server {

Result<Ok> reserve_descriptors(std::size_t max_connections) {
  const std::size_t need = max_connections + kReservedDescriptors;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return Ok{};  // unknown: nothing to adjust
  auto fits = [need](rlim_t limit) {
    return limit == RLIM_INFINITY || static_cast<std::uint64_t>(limit) >= need;
  };
  if (fits(rl.rlim_cur)) return Ok{};
  if (!fits(rl.rlim_max)) {
    auto hard = static_cast<std::size_t>(rl.rlim_max);
    return Error{"server.maxConnections " + std::to_string(max_connections) + " needs " +
                 std::to_string(need) + " file descriptors (plus " +
                 std::to_string(kReservedDescriptors) +
                 " for the watches, notifiers, LLM and state files) but the open files limit "
                 "(RLIMIT_NOFILE, ulimit -n) is " +
                 std::to_string(hard) + "; set server.maxConnections to at most " +
                 std::to_string(hard > kReservedDescriptors ? hard - kReservedDescriptors : 0) +
                 " or raise the limit"};
  }
  const auto was = rl.rlim_cur;
  rl.rlim_cur = static_cast<rlim_t>(need);
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return Error{"cannot raise the open files limit (RLIMIT_NOFILE) from " + std::to_string(was) +
                 " to " + std::to_string(need) + " for server.maxConnections " +
                 std::to_string(max_connections)};
  log::info("app", "raised the open files limit for server.maxConnections",
            {{"from", static_cast<std::uint64_t>(was)},
             {"to", need},
             {"max_connections", max_connections}});
  return Ok{};
}

}  // namespace podmedic::server
