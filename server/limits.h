#pragma once
// File descriptors for the HTTP API's connections, kept apart from the rest of the process.
#include <cstddef>

#include "core/result.h"

namespace podmedic::server {

// File descriptors kept for everything but the API's connections: the watches, API server
// requests and log fetches, LLM and notifier connections, state and outbox writes, the
// io_contexts' own descriptors, stdio.
inline constexpr std::size_t kReservedDescriptors = 64;

// Makes room in RLIMIT_NOFILE for `max_connections` API connections plus kReservedDescriptors,
// so a flood of API clients cannot take the descriptors the watcher, notifiers and state writes
// need: raises the soft limit (up to the hard one) when it is lower; if the hard limit is too
// low, an error naming server.maxConnections and the largest value that fits (podmedic refuses
// to start rather than run with an API that can starve the watch).
Result<Ok> reserve_descriptors(std::size_t max_connections);

}  // namespace podmedic::server
