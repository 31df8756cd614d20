#include "core/config_schema.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"

namespace podmedic::config {

std::string expand_env(const std::string& in, std::vector<std::string>* unset) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '{') {
      auto close = in.find('}', i + 2);
      if (close != std::string::npos) {
        std::string expr = in.substr(i + 2, close - i - 2);
        std::string name = expr, fallback;
        bool has_default = false;
        if (auto p = expr.find(":-"); p != std::string::npos) {
          name = expr.substr(0, p);
          fallback = expr.substr(p + 2);
          has_default = true;
        }
        const char* v = std::getenv(name.c_str());
        if (v && *v) {
          out += v;
        } else if (has_default) {
          out += fallback;
        } else if (unset) {
          unset->push_back(name);
        }
        i = close + 1;
        continue;
      }
    }
    out += in[i++];
  }
  return out;
}

namespace {

// Reads a scalar with env expansion; reports non-scalars.
bool scalar(const YAML::Node& n, const std::string& path, Ctx& ctx, std::string& out) {
  if (n.IsNull()) {
    out.clear();
    return true;
  }
  if (!n.IsScalar()) {
    ctx.error(path, "expected a single value" + where(n));
    return false;
  }
  std::vector<std::string> unset;
  out = expand_env(n.Scalar(), &unset);
  (void)unset;  // unset variables become empty; required-value checks report them
  return true;
}

}  // namespace

std::string where(const YAML::Node& n) {
  auto m = n.Mark();
  if (m.line < 0) return "";
  return " (line " + std::to_string(m.line + 1) + ")";
}

void read_map(const YAML::Node& n, const std::string& path, Ctx& ctx, const Schema& schema) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    ctx.error(path.empty() ? "(top level)" : path, "expected a mapping of keys" + where(n));
    return;
  }
  std::set<std::string> seen;  // bounded by the mapping's size
  for (const auto& kv : n) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    std::string child = path.empty() ? key : path + "." + key;
    // YAML forbids a key twice in one mapping; yaml-cpp keeps both and the later one would
    // silently win (a second `server:` block dropping the first one's token).
    if (!seen.insert(key).second) {
      ctx.error(child, "duplicate key" + where(kv.first) + " (the mapping names it twice)");
      continue;
    }
    auto it =
        std::find_if(schema.begin(), schema.end(), [&](const Key& k) { return k.name == key; });
    if (it == schema.end()) {
      std::string known, nearest;
      std::size_t best = 3;  // suggest only within two edits
      for (const auto& k : schema) {
        known += (known.empty() ? "" : ", ") + k.name;
        if (auto d = text::edit_distance(key, k.name); d < best) {
          best = d;
          nearest = k.name;
        }
      }
      ctx.error(child, "unknown key" + where(kv.first) +
                           (nearest.empty() ? "" : "; did you mean \"" + nearest + "\"?") +
                           "; known keys here: " + known);
      continue;
    }
    it->read(kv.second, child, ctx);
  }
}

Key str(std::string name, std::string* out, std::string doc) {
  std::string def = *out;
  return {name,
          "string",
          def,
          doc,
          [out](const YAML::Node& n, const std::string& p, Ctx& c) { scalar(n, p, c, *out); },
          {}};
}

Key boolean(std::string name, bool* out, std::string doc) {
  return {name,
          "bool",
          *out ? "true" : "false",
          doc,
          [out](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            if (s == "true" || s == "yes" || s == "on")
              *out = true;
            else if (s == "false" || s == "no" || s == "off")
              *out = false;
            else
              c.error(p, "expected true or false, got \"" + s + "\"");
          },
          {}};
}

Key duration(std::string name, milliseconds* out, std::string doc, bool allow_zero) {
  return {name,
          "duration",
          format_duration(*out),
          doc,
          [out, allow_zero](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            auto d = parse_duration(s);
            if (!d.ok()) return c.error(p, d.error().message);
            if (!allow_zero && d.value().count() == 0) return c.error(p, "must be greater than 0");
            *out = d.value();
          },
          {}};
}

Key integer(std::string name, int* out, std::string doc, int min, int max) {
  return {name,
          "integer",
          std::to_string(*out),
          doc,
          [out, min, max](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            auto v = parse::integer<long>(s);
            if (!v) {
              // Digits that do not fit a long are out of range, not malformed.
              bool digits =
                  !s.empty() && std::all_of(s.begin() + (s[0] == '-'), s.end(), ::isdigit);
              if (!digits) return c.error(p, "expected an integer, got \"" + s + "\"" + where(n));
              v = s[0] == '-' ? std::numeric_limits<long>::min() : std::numeric_limits<long>::max();
            }
            if (*v < min || *v > max)
              return c.error(
                  p, "must be between " + std::to_string(min) + " and " + std::to_string(max));
            *out = static_cast<int>(*v);
          },
          {}};
}

Key size(std::string name, std::uint64_t* out, std::string doc, std::uint64_t min) {
  return {name,
          "size",
          std::to_string(*out),
          doc,
          [out, min](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            auto v = parse_size(s);
            if (!v.ok()) return c.error(p, v.error().message);
            if (v.value() < min)
              return c.error(p, "must be at least " + std::to_string(min) + " bytes");
            *out = v.value();
          },
          {}};
}

Key strlist(std::string name, std::vector<std::string>* out, std::string doc,
            std::function<std::string(const std::string&)> check) {
  // The default shown is the list as the settings struct holds it (detect.reasons has three).
  std::string shown = "[";
  for (const auto& s : *out) shown += (shown.size() > 1 ? ", " : "") + s;
  shown += "]";
  return {name,
          "list of strings",
          shown,
          doc,
          [out, check](const YAML::Node& n, const std::string& p, Ctx& c) {
            if (n.IsNull()) return;
            if (!n.IsSequence()) return c.error(p, "expected a list" + where(n));
            out->clear();
            for (std::size_t i = 0; i < n.size(); ++i) {
              std::string s;
              std::string ip = p + "[" + std::to_string(i) + "]";
              if (!scalar(n[i], ip, c, s)) continue;
              if (check) {
                if (auto e = check(s); !e.empty()) {
                  c.error(ip, e);
                  continue;
                }
              }
              out->push_back(s);
            }
          },
          {}};
}

Key strmap(std::string name, std::map<std::string, std::string>* out, std::string doc,
           std::function<std::string(const std::string&, const std::string&)> check) {
  std::string def;
  for (const auto& [k, v] : *out) def += (def.empty() ? "" : ", ") + k + ": " + v;
  return {name,
          "map of strings",
          "{" + def + "}",
          doc,
          [out, check](const YAML::Node& n, const std::string& p, Ctx& c) {
            if (n.IsNull()) return;
            if (!n.IsMap()) return c.error(p, "expected a mapping" + where(n));
            if (n.size() > kMaxMapEntries)
              return c.error(p, "at most " + std::to_string(kMaxMapEntries) + " entries");
            for (const auto& kv : n) {
              std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
              std::string ip = p + "." + (key.empty() ? "?" : key);
              if (key.empty()) {
                c.error(ip, "keys must be strings" + where(kv.first));
                continue;
              }
              std::string value;
              if (!scalar(kv.second, ip, c, value)) continue;
              if (check) {
                if (auto e = check(key, value); !e.empty()) {
                  c.error(ip, e);
                  continue;
                }
              }
              (*out)[key] = value;
            }
          },
          {}};
}

Key section(std::string name, std::string doc, std::function<Schema()> schema) {
  return {
      name,
      "map",
      "",
      doc,
      [schema](const YAML::Node& n, const std::string& p, Ctx& c) { read_map(n, p, c, schema()); },
      schema};
}

std::string check_namespace(const std::string& s) {
  static const std::regex dns1123("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  if (s.size() > 63 || !std::regex_match(s, dns1123))
    return "\"" + s + "\" is not a valid namespace name";
  return "";
}

bool is_http_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

void document(const Schema& schema, const std::string& indent, std::ostringstream& out) {
  for (const auto& k : schema) {
    out << indent << k.name << ":";
    if (k.children && k.type == "list") {
      // A list of maps (notifiers): its default is empty, and one entry is shown commented out,
      // so that the reference itself is a valid configuration.
      out << " []  # " << k.doc << "; a list of entries like:\n";
      std::ostringstream entry;
      document(k.children(), "", entry);
      std::istringstream lines(entry.str());
      bool first = true;
      for (std::string line; std::getline(lines, line); first = false)
        out << indent << "#   " << (first ? "- " : "  ") << line << "\n";
    } else if (k.children) {
      out << "  # " << k.doc << "\n";
      document(k.children(), indent + "  ", out);
    } else {
      out << " " << (k.default_text.empty() ? "\"\"" : k.default_text) << "  # " << k.type << ": "
          << k.doc << "\n";
    }
  }
}

}  // namespace podmedic::config
