#include "core/parse.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/text.h"

namespace podmedic::parse {

std::optional<unsigned short> port(std::string_view text, bool allow_zero) {
  auto v = integer<unsigned>(text);
  if (!v || *v > 65535 || (*v == 0 && !allow_zero)) return std::nullopt;
  return static_cast<unsigned short>(*v);
}

Result<json> json_text(std::string_view text, std::string_view what) {
  // allow_exceptions=false: a parse error yields a discarded value instead of throwing.
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return Error{std::string(what) + ": not valid JSON"};
  return j;
}

std::string dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

const json* member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const json* element(const json& arr, std::size_t i) {
  if (!arr.is_array() || i >= arr.size()) return nullptr;
  return &arr[i];
}

std::optional<std::string> get_string(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get_ref<const std::string&>();
}

std::optional<bool> get_bool(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v || !v->is_boolean()) return std::nullopt;
  return v->get_ref<const json::boolean_t&>();
}

std::optional<double> get_double(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_float()) return v->get_ref<const json::number_float_t&>();
  if (v->is_number_integer())
    return static_cast<double>(v->get_ref<const json::number_integer_t&>());
  if (v->is_number_unsigned())
    return static_cast<double>(v->get_ref<const json::number_unsigned_t&>());
  return std::nullopt;
}

const json* get_object(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  return v && v->is_object() ? v : nullptr;
}

const json* get_array(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  return v && v->is_array() ? v : nullptr;
}

std::string string_or(const json& obj, std::string_view key, std::string_view fallback) {
  const json* v = member(obj, key);
  if (!v || !v->is_string()) return std::string(fallback);
  return v->get_ref<const std::string&>();
}

bool bool_or(const json& obj, std::string_view key, bool fallback) {
  return get_bool(obj, key).value_or(fallback);
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "binary";
    case json::value_t::discarded:
      return "invalid JSON";
  }
  return "unknown";
}

Error field_error(const json& obj, std::string_view key, const char* expected) {
  std::string k(text::cut_utf8(key, 64));  // a name from a peer: bounded, never split mid-character
  if (!obj.is_object())
    return Error{"expected an object with field \"" + k + "\", got " + type_name(obj)};
  const json* v = member(obj, key);
  if (!v) return Error{"missing field \"" + k + "\""};
  return Error{"field \"" + k + "\": expected " + expected + ", got " + type_name(*v)};
}

Result<std::string> need_string(const json& obj, std::string_view key) {
  if (auto v = get_string(obj, key)) return std::move(*v);
  return field_error(obj, key, "a string");
}

Result<bool> need_bool(const json& obj, std::string_view key) {
  if (auto v = get_bool(obj, key)) return *v;
  return field_error(obj, key, "a boolean");
}

bool wrong_type(const json& obj, std::string_view key, json::value_t expected) {
  const json* v = member(obj, key);
  if (!v || v->is_null()) return false;
  auto t = v->type();
  if (expected == json::value_t::number_integer || expected == json::value_t::number_unsigned)
    return !v->is_number_integer();
  if (expected == json::value_t::number_float) return !v->is_number();
  return t != expected;
}

Result<YAML::Node> yaml_text(const std::string& text, std::string_view what) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Error{std::string(what) + ":" + std::to_string(e.mark.line + 1) + ":" +
                 std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg};
  } catch (const std::exception& e) {
    return Error{std::string(what) + ": invalid YAML: " + e.what()};
  }
}

Result<YAML::Node> yaml_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{path + ": cannot read: " + std::strerror(errno)};
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return Error{path + ": cannot read"};
  return yaml_text(ss.str(), path);
}

std::optional<std::string> yaml_string(const YAML::Node& node) {
  if (!node.IsDefined() || !node.IsScalar()) return std::nullopt;
  return node.Scalar();
}

std::optional<bool> yaml_bool(const YAML::Node& node) {
  auto s = yaml_string(node);
  if (!s) return std::nullopt;
  std::string v = *s;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true" || v == "yes" || v == "on" || v == "y") return true;
  if (v == "false" || v == "no" || v == "off" || v == "n") return false;
  return std::nullopt;
}

}  // namespace podmedic::parse
