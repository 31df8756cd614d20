#pragma once
// Helpers shared by the libFuzzer targets: split one input into fields, and pad JSON for the
// simdjson decoder. Each target calls podmedic's real parsing code on hostile bytes; a crash,
// an ASan/UBSan report or an uncaught exception is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace podmedic::fuzz {

// Splits at the first `n-1` NUL bytes: lets one input carry several fields (e.g. an HTTP
// method, target and body).
inline std::vector<std::string_view> split(const std::uint8_t* data, std::size_t size,
                                           std::size_t n) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    auto z = in.find('\0');
    if (z == std::string_view::npos) break;
    out.push_back(in.substr(0, z));
    in.remove_prefix(z + 1);
  }
  out.push_back(in);
  while (out.size() < n) out.emplace_back();
  return out;
}

}  // namespace podmedic::fuzz
