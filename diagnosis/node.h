#pragma once
// The node's memory state around an OOM kill, for telling "the container hit its own limit" from
// "the node ran out of memory": a GET of the node (its MemoryPressure condition) and a LIST of
// the node's events (SystemOOM, evictions). Nodes are cluster-scoped: with namespaced Roles only
// (watch.namespaces) the caller does not ask and says why. Read-only; bodies are untrusted (a
// malformed answer is an error value, counted as the API server's fault).
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "core/result.h"
#include "k8s/client.h"
#include "k8s/decode.h"
#include "rules/facts.h"

namespace podmedic::diagnosis {

// The MemoryPressure condition of a Node object's JSON (status.conditions). An error when the
// body is not a JSON object; a node without the condition reads as known with an empty status.
Result<rules::NodeMemory> parse_node_memory(std::string_view body);

// Node events counted as "the node ran short of memory" when last seen within this many seconds
// before the kill (or up to kEventAfter after it).
inline constexpr std::int64_t kEventBefore = 15 * 60;
inline constexpr std::int64_t kEventAfter = 5 * 60;
// The most node events read (the API's newest first after sorting) and cited.
inline constexpr int kMaxNodeEvents = 100;
inline constexpr std::size_t kMaxCitedEvents = 3;

// GET /api/v1/nodes/NAME and its memory events around `killed_at` (Unix seconds). Never fails:
// what could not be read is `known = false` with the reason (e.g. the API's 403).
boost::asio::awaitable<rules::NodeMemory> fetch_node_memory(k8s::KubeClient& client,
                                                            k8s::Decoder& decoder, std::string node,
                                                            std::int64_t killed_at);

}  // namespace podmedic::diagnosis
