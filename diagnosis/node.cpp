#include "diagnosis/node.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/parse.h"
#include "core/units.h"
#include "k8s/api.h"

namespace podmedic::diagnosis {

using json = nlohmann::json;

Result<rules::NodeMemory> parse_node_memory(std::string_view body) {
  auto j = parse::json_text(body, "node");
  if (!j.ok()) return j.error();
  if (!j->is_object()) return Error{"node: not a JSON object"};
  rules::NodeMemory m;
  m.known = true;
  const json* status = parse::get_object(*j, "status");
  const json* conds = status ? parse::get_array(*status, "conditions") : nullptr;
  if (!conds) return m;
  for (const auto& c : *conds) {
    if (parse::string_or(c, "type") != "MemoryPressure") continue;
    m.memory_pressure = parse::string_or(c, "status");
    m.pressure_since = parse_rfc3339(parse::string_or(c, "lastTransitionTime"));
  }
  return m;
}

boost::asio::awaitable<rules::NodeMemory> fetch_node_memory(k8s::KubeClient& client,
                                                            k8s::Decoder& decoder, std::string node,
                                                            std::int64_t killed_at) {
  using namespace std::chrono_literals;
  rules::NodeMemory m;
  auto r = co_await client.get("/api/v1/nodes/" + k8s::url_encode(node), 4u << 20, 30s);
  if (!r.ok()) {
    m.unknown_why = "node " + node + " unreadable: " + r.error().message;
    co_return m;
  }
  if (r->status != 200) {
    m.unknown_why =
        "node " + node + " unreadable: " + k8s::describe(k8s::parse_status(r->status, r->body));
    co_return m;
  }
  auto parsed = parse_node_memory(r->body);
  if (!parsed.ok()) {
    if (auto* errors = client.peer_errors()) errors->count(Peer::kApiServer, PeerFault::kMalformed);
    m.unknown_why = "node " + node + ": " + parsed.error().message;
    co_return m;
  }
  m = std::move(*parsed);
  // The node's own events (any namespace: the kubelet writes them to "default").
  k8s::ListOptions o;
  o.field_selector = "involvedObject.kind=Node,involvedObject.name=" + node;
  o.limit = kMaxNodeEvents;
  auto ev = co_await client.get(k8s::list_target(k8s::Resource::kEvents, "", o), 16u << 20, 30s);
  if (!ev.ok() || ev->status != 200) co_return m;  // the condition alone still tells
  std::vector<k8s::EventView> events;
  k8s::ListMeta meta;
  ev->body.reserve(ev->body.size() + k8s::kJsonPadding);
  auto d = decoder.event_list(ev->body, ev->body.capacity(), meta, [&](k8s::EventView& e) {
    const std::string_view reason = decoder.interner().view(e.reason);
    const std::int64_t t = e.last_seen;
    if (rules::node_memory_event(reason) && t >= killed_at - kEventBefore &&
        t <= killed_at + kEventAfter)
      events.push_back(e);
  });
  if (!d.ok()) {
    if (auto* errors = client.peer_errors()) errors->count(Peer::kApiServer, PeerFault::kMalformed);
    co_return m;
  }
  std::sort(events.begin(), events.end(), [](const k8s::EventView& a, const k8s::EventView& b) {
    return a.last_seen > b.last_seen;
  });
  for (std::size_t i = 0; i < events.size() && i < kMaxCitedEvents; ++i) {
    const auto& e = events[i];
    m.node_oom_events.push_back(std::string(decoder.interner().view(e.reason)) + " (x" +
                                std::to_string(e.count) + ") at " + format_rfc3339(e.last_seen) +
                                ": " + e.message);
  }
  co_return m;
}

}  // namespace podmedic::diagnosis
