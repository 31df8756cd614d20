#include "sim/route.h"

#include <array>
#include <cassert>
#include <charconv>

namespace podmedic::sim {

namespace {

// The path's non-empty segments: the first kMaxRouteSegments kept, all of them counted.
struct Segments {
  std::array<std::string_view, kMaxRouteSegments> kept;
  std::size_t count = 0;

  explicit Segments(std::string_view path) {
    std::size_t start = 0;
    while (start < path.size()) {
      auto slash = path.find('/', start);
      if (slash == std::string_view::npos) slash = path.size();
      if (slash > start) {
        if (count < kept.size()) kept[count] = path.substr(start, slash - start);
        ++count;
      }
      start = slash + 1;
    }
  }
  // Segment i < count; every index read below is also below kMaxRouteSegments (the deepest
  // route has 8 segments), so a bigger one is a bug.
  std::string_view operator[](std::size_t i) const {
    assert(i < count && i < kept.size());
    return kept[i];
  }
};

void parse_query(std::string_view query, std::map<std::string, std::string>& out) {
  std::size_t start = 0;
  while (start < query.size()) {
    auto amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view kv = query.substr(start, amp - start);
    start = amp + 1;
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    auto key = query_unescape(kv.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : query_unescape(kv.substr(eq + 1));
    if (key && value) out[std::move(*key)] = std::move(*value);  // a bad escape drops the pair
  }
}

// The resource part of an API path: segments from `i` on, after the group version.
void parse_resource(const Segments& parts, std::size_t i, Route& r) {
  if (i == parts.count) {
    r.kind = RouteKind::kDiscovery;
    return;
  }
  // namespaces/NS/RESOURCE...; "namespaces/NAME" alone is the Namespace object.
  if (parts[i] == "namespaces" && parts.count > i + 2) {
    r.ns = parts[i + 1];
    i += 2;
  }
  r.resource = res_from_plural(r.group_version, parts[i]);
  switch (parts.count - i) {
    case 1:
      r.kind = RouteKind::kCollection;
      break;
    case 2:
      r.kind = RouteKind::kObject;
      r.name = parts[i + 1];
      break;
    case 3:
      r.kind = RouteKind::kSubresource;
      r.name = parts[i + 1];
      r.subresource = parts[i + 2];
      break;
    default:
      r.kind = RouteKind::kTooDeep;
      break;
  }
}

}  // namespace

const std::string& Route::param(const std::string& key) const {
  static const std::string kEmpty;
  auto it = query.find(key);
  return it == query.end() ? kEmpty : it->second;
}

bool Route::watch() const {
  const std::string& w = param("watch");
  return w == "1" || w == "true";
}

std::optional<std::string> query_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 3 > s.size()) return std::nullopt;
      unsigned char byte = 0;
      const char* first = s.data() + i + 1;
      const char* last = first + 2;
      auto [p, ec] = std::from_chars(first, last, byte, 16);
      if (ec != std::errc() || p != last) return std::nullopt;
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Route parse_route(std::string_view target) {
  Route r;
  auto qpos = target.find('?');
  r.path = target.substr(0, qpos);
  if (qpos != std::string_view::npos) parse_query(target.substr(qpos + 1), r.query);

  const Segments parts(r.path);
  if (parts.count == 0) return r;
  if (parts.count == 1 && parts[0] == "version") {
    r.kind = RouteKind::kVersion;
  } else if (parts[0] == "api") {
    r.prefix = "api";
    if (parts.count == 1) {
      r.kind = RouteKind::kDiscovery;
    } else {
      r.group_version = parts[1];
      parse_resource(parts, 2, r);
    }
  } else if (parts[0] == "apis") {
    r.prefix = "apis";
    if (parts.count == 1) {
      r.kind = RouteKind::kDiscovery;
    } else if (parts.count >= 3) {
      r.group_version = std::string(parts[1]) + "/" + std::string(parts[2]);
      parse_resource(parts, 3, r);
    } else {
      r.prefix.clear();  // /apis/GROUP: nothing serves it
    }
  }
  return r;
}

}  // namespace podmedic::sim
