#pragma once
// The `watch` section of the configuration: what the watcher lists and watches.
#include <string>

#include "core/config_schema.h"
#include "watcher/watcher.h"

namespace podmedic::watcher {

config::Schema watch_schema(WatchSettings& w);
void validate(const WatchSettings& w, config::Ctx& ctx);

// Whether a namespace is in the watch scope: listed in watch.namespaces (or that list is empty)
// and not in watch.excludeNamespaces.
bool in_watch_scope(const WatchSettings& watch, const std::string& ns);

}  // namespace podmedic::watcher
