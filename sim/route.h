#pragma once
// The simulated apiserver's route table: a request target (path and query) parsed once into a
// typed Route that every handler of sim/server.cpp reads (GET, watch, writes, fault matching).
// Pure functions; thread-safe.
//
// Paths are read the way the simulator has always read them:
// - empty segments are skipped ("//api//v1/" is "/api/v1");
// - segments are NOT percent-decoded: Kubernetes names never need escaping, and an encoded
//   slash ("%2F") stays part of its segment, so it can never become a separator;
// - "." and ".." are names like any other: nothing in the store has them, so they are 404s,
//   never a walk up a tree.
// Query keys and values are percent-decoded as Go's url.ParseQuery does ('+' is a space); a pair
// with a bad escape is dropped, and a repeated key keeps its last value.
//
// Bounds: a target is at most Beast's header limit (8 KiB by default), so the query map holds at
// most ~4,000 pairs; the path keeps at most kMaxRouteSegments segments (the deepest route has 8)
// and only counts the rest.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sim/store.h"

namespace podmedic::sim {

inline constexpr std::size_t kMaxRouteSegments = 9;

enum class RouteKind {
  kUnknown,      // nothing the simulator serves
  kVersion,      // /version
  kDiscovery,    // /api, /apis, /api/VERSION, /apis/GROUP/VERSION
  kCollection,   // <group version>/[namespaces/NS/]RESOURCE
  kObject,       // <group version>/[namespaces/NS/]RESOURCE/NAME
  kSubresource,  // <group version>/[namespaces/NS/]RESOURCE/NAME/SUBRESOURCE
  kTooDeep,      // a resource path with more segments than a subresource
};

struct Route {
  RouteKind kind = RouteKind::kUnknown;
  std::string path;           // the target up to '?', as sent: faults are matched against it
  std::string prefix;         // "api" (the core group) or "apis"; empty for kUnknown, kVersion
  std::string group_version;  // "v1", "apps/v1"; empty for /api and /apis
  // kCollection to kTooDeep: the resource when the simulator knows the plural for
  // group_version (a route with an unknown one is a 404, or a 405 for a write).
  std::optional<Res> resource;
  std::string ns;           // "namespaces/NS/" before the resource; empty: cluster scope
  std::string name;         // kObject, kSubresource (/api/v1/namespaces/NAME is a kObject)
  std::string subresource;  // kSubresource: "log", "status", ...
  std::map<std::string, std::string> query;

  // A query parameter's decoded value; "" when absent (the apiserver reads empty as unset).
  const std::string& param(const std::string& key) const;
  // ?watch=1 or ?watch=true.
  bool watch() const;
};

Route parse_route(std::string_view target);

// Percent-decoding of one query key or value; nullopt for a '%' not followed by two hex digits
// (Go's url.ParseQuery then drops the pair, so the apiserver never sees it).
std::optional<std::string> query_unescape(std::string_view s);

}  // namespace podmedic::sim
