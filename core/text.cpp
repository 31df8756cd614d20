#include "core/text.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <vector>

namespace podmedic::text {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool continuation(unsigned c) {
  return (c & 0xC0u) == 0x80u;
}

// The repair loop of replace_invalid_utf8 and sanitize_utf8: valid sequences are copied (a
// one-byte one through `ascii`), each invalid byte becomes U+FFFD.
template <class Ascii>
std::string repair(std::string_view s, Ascii ascii) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) {
      out.append(kReplacement);
      i += 1;
    } else if (len == 1) {
      out.push_back(ascii(s[i]));
      i += 1;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  assert(i < s.size());
  auto at = [&](std::size_t k) -> unsigned {
    return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u;
  };
  const unsigned c = at(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return continuation(at(i + 1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    // E0 would be overlong below A0; ED would be a surrogate from A0.
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return at(i + 1) >= lo && at(i + 1) <= hi && continuation(at(i + 2)) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    // F0 would be overlong below 90; F4 would pass U+10FFFF from 90.
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return at(i + 1) >= lo && at(i + 1) <= hi && continuation(at(i + 2)) && continuation(at(i + 3))
               ? 4
               : 0;
  }
  return 0;
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string replace_invalid_utf8(std::string_view s) {
  return repair(s, [](char c) { return c; });
}

std::string sanitize_utf8(std::string_view s) {
  return repair(s, [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t' || c == '\r' ? c : ' ';
  });
}

std::string_view cut_utf8(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  // s[max_bytes] is the first byte left out. If it continues a character, that character starts
  // at most 3 bytes before; cut there when the bytes from that start are a well-formed sequence
  // (which then runs past the cut). Anything else is invalid input: cut at max_bytes.
  std::size_t start = max_bytes;
  while (start > 0 && max_bytes - start < 3 && continuation(static_cast<unsigned char>(s[start]))) {
    --start;
  }
  if (start < max_bytes && !continuation(static_cast<unsigned char>(s[start])) &&
      utf8_sequence_length(s, start) > max_bytes - start) {
    return s.substr(0, start);
  }
  return s.substr(0, max_bytes);
}

std::string_view tail_utf8(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t start = s.size() - max_bytes;
  for (int i = 0; i < 3 && start < s.size() && continuation(static_cast<unsigned char>(s[start]));
       ++i) {
    ++start;
  }
  return s.substr(start);
}

std::string cut_utf8_with_marker(std::string_view s, std::size_t max_bytes,
                                 std::string_view marker) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t room = max_bytes > marker.size() ? max_bytes - marker.size() : 0;
  std::string out(cut_utf8(s, room));
  out.append(marker);
  return out;
}

std::string hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  a = a.substr(0, 64);
  b = b.substr(0, 64);
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (lower(a[i - 1]) != lower(b[j - 1]))});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string count_of(std::uint64_t n, std::string_view noun) {
  std::string out = std::to_string(n);
  out += ' ';
  out += noun;
  if (n != 1) out += 's';
  return out;
}

}  // namespace podmedic::text
