#include "watcher/config.h"

#include <algorithm>

namespace podmedic::watcher {

config::Schema watch_schema(WatchSettings& w) {
  using namespace config;
  return Schema{
      strlist("namespaces", &w.namespaces, "namespaces to watch; empty: all", check_namespace),
      strlist("excludeNamespaces", &w.exclude_namespaces, "namespaces never watched",
              check_namespace),
      str("labelSelector", &w.label_selector, "label selector for pods; empty: all pods")};
}

void validate(const WatchSettings& w, config::Ctx& ctx) {
  for (const auto& ns : w.exclude_namespaces) {
    if (std::find(w.namespaces.begin(), w.namespaces.end(), ns) != w.namespaces.end()) {
      ctx.error("watch.excludeNamespaces", "\"" + ns + "\" is also listed in watch.namespaces");
    }
  }
}

bool in_watch_scope(const WatchSettings& watch, const std::string& ns) {
  auto listed = [&ns](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), ns) != v.end();
  };
  if (!watch.namespaces.empty() && !listed(watch.namespaces)) return false;
  return !listed(watch.exclude_namespaces);
}

}  // namespace podmedic::watcher
