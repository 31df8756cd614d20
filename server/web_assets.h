#pragma once
// The web page's static files (server/web/), embedded in the binary at build time: no CDN, no
// files to ship beside the executable.
#include <string_view>

namespace podmedic::server {

struct Asset {
  std::string_view path;  // as requested: "/", "/static/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

// nullptr when `path` is not an embedded file.
const Asset* find_asset(std::string_view path);

}  // namespace podmedic::server
