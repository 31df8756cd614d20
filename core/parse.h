#pragma once
// The one place that turns untrusted bytes into numbers and typed values without throwing:
// integers via from_chars with range checks, JSON parsed with exceptions off and read through
// getters that return std::optional / Result and name the field, JSON serialized with invalid
// UTF-8 replaced (nlohmann's dump() throws on it), YAML scalars read without yaml-cpp's as<>.
// Everything else in podmedic reads peer, file, config and command-line input through these;
// scripts/check-no-throw.sh fails the build when a throwing call appears elsewhere.
// Pure functions; thread-safe.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace YAML {
class Node;
}

namespace podmedic::parse {

using json = nlohmann::json;

// A whole decimal integer ("42", "-7"; no sign for unsigned T, no spaces, no trailing bytes)
// that fits T; nullopt otherwise (including overflow).
template <class T>
std::optional<T> integer(std::string_view text) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if (text.empty() || text.size() > 40) return std::nullopt;
  T value{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return value;
}

// A TCP port 1..65535 (0 too when allow_zero: "any free port").
std::optional<unsigned short> port(std::string_view text, bool allow_zero = true);

// JSON text → value, exceptions off. Errors say what was being read ("LLM reply", "state file").
Result<json> json_text(std::string_view text, std::string_view what);
// Serializes without ever throwing: invalid UTF-8 from peers becomes U+FFFD.
std::string dump(const json& j, int indent = -1);

// Member `key` of `obj`, or null when obj is not an object or has no such key. Never inserts.
const json* member(const json& obj, std::string_view key);
// Element i of an array, or null.
const json* element(const json& arr, std::size_t i);

// The typed getters: nullopt when the member is absent, null, or of another type.
std::optional<std::string> get_string(const json& obj, std::string_view key);
std::optional<bool> get_bool(const json& obj, std::string_view key);
std::optional<double> get_double(const json& obj, std::string_view key);
// Integers must be JSON integers (or integral floats) within T's range: 4294967303 is not a
// uint32_t, and neither is -1.
template <class T>
std::optional<T> to_integer(const json& v) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if (v.is_number_unsigned()) {
    auto u = v.get_ref<const json::number_unsigned_t&>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    return static_cast<T>(u);
  }
  if (v.is_number_integer()) {
    auto i = v.get_ref<const json::number_integer_t&>();
    if constexpr (std::is_unsigned_v<T>) {
      if (i < 0 || static_cast<std::uint64_t>(i) > std::numeric_limits<T>::max())
        return std::nullopt;
    } else {
      if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max())
        return std::nullopt;
    }
    return static_cast<T>(i);
  }
  if (v.is_number_float()) {
    double d = v.get_ref<const json::number_float_t&>();
    // Integral and inside T; max()+1.0 is a power of two, exact as a double.
    if (!std::isfinite(d) || std::trunc(d) != d) return std::nullopt;
    if (d < static_cast<double>(std::numeric_limits<T>::min()) ||
        d >= static_cast<double>(std::numeric_limits<T>::max()) + 1.0)
      return std::nullopt;
    return static_cast<T>(d);
  }
  return std::nullopt;
}
template <class T>
std::optional<T> get_integer(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  return v ? to_integer<T>(*v) : std::nullopt;
}
// An object or array member, or null.
const json* get_object(const json& obj, std::string_view key);
const json* get_array(const json& obj, std::string_view key);

// Defaults for optional members: absent, null or wrong-typed members read as the fallback.
std::string string_or(const json& obj, std::string_view key, std::string_view fallback = {});
bool bool_or(const json& obj, std::string_view key, bool fallback);
template <class T>
T integer_or(const json& obj, std::string_view key, T fallback) {
  return get_integer<T>(obj, key).value_or(fallback);
}

// Required members: a Result whose error names the field and what it was instead
// ("field \"version\": expected an integer, got a string").
Result<std::string> need_string(const json& obj, std::string_view key);
Result<bool> need_bool(const json& obj, std::string_view key);
Error field_error(const json& obj, std::string_view key, const char* expected);
template <class T>
Result<T> need_integer(const json& obj, std::string_view key) {
  if (auto v = get_integer<T>(obj, key)) return *v;
  return field_error(obj, key, "an integer in range");
}
// True when the member is present and not null but of another type than `expected`
// (for counting wrong-typed peer replies apart from absent fields).
bool wrong_type(const json& obj, std::string_view key, json::value_t expected);
// "a string", "an integer", "null", … for error messages.
const char* type_name(const json& v);

// YAML text (or a file) → document, with yaml-cpp's parser exceptions caught: the error names
// `what` (a path), the line and the column ("FILE:LINE:COL: invalid YAML: …"). A file that cannot
// be read is an error too.
Result<YAML::Node> yaml_text(const std::string& text, std::string_view what);
Result<YAML::Node> yaml_file(const std::string& path);
// YAML scalars without yaml-cpp's throwing as<>: nullopt unless the node is a scalar (a bool
// also needs one of true/false/yes/no/on/off in any case).
std::optional<std::string> yaml_string(const YAML::Node& node);
std::optional<bool> yaml_bool(const YAML::Node& node);

}  // namespace podmedic::parse
