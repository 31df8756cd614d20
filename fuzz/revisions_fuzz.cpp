// The parsers behind "what changed" and the node facts: ReplicaSet / ControllerRevision lists
// (parse_revisions, then the diff of every pair of templates found) and a Node's MemoryPressure
// (parse_node_memory). The first byte picks the entry point. Invariants: bounded output, and a
// diff never holds more than kMaxChanges entries.
#include <cstdlib>
#include <string>

#include "core/log.h"
#include "diagnosis/changes.h"
#include "diagnosis/node.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto revs = diagnosis::parse_revisions(body);
    if (!revs.ok()) return 0;
    if (revs->size() > static_cast<std::size_t>(diagnosis::kMaxItems)) std::abort();
    for (std::size_t i = 0; i + 1 < revs->size() && i < 8; ++i) {
      auto d = diagnosis::diff_templates((*revs)[i].spec, (*revs)[i + 1].spec);
      if (d.size() > diagnosis::kMaxChanges) std::abort();
    }
    for (const auto& r : *revs)
      (void)diagnosis::rollout_change(*revs, r.owner_kind, r.owner, r.name, r.created + 1, 1800);
  } else {
    auto m = diagnosis::parse_node_memory(body);
    if (m.ok() && !m->known) std::abort();
  }
  return 0;
}
