#pragma once
// The building blocks of podmedic's YAML configuration: a module declares its keys (type,
// default, doc, how to read and check them) as a Schema next to its own settings struct, and
// app/config.cpp composes the modules' schemas into the whole file. Reading never throws:
// unknown keys and bad values are collected with their paths
// ("notifiers.slack[0].webhookUrl: ...") so every problem is reported at once. ${VAR} and
// ${VAR:-default} expand from the environment inside scalar values.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace podmedic::config {

using std::chrono::milliseconds;

// Where reading reports problems, each as "path: message".
struct Ctx {
  std::vector<std::string>& errors;
  void error(const std::string& path, const std::string& msg) {
    errors.push_back(path + ": " + msg);
  }
};

// One declared key: its doc and how to read it. Maps nest; lists of maps repeat a schema.
struct Key;
using Schema = std::vector<Key>;
struct Key {
  std::string name;
  std::string type;
  std::string default_text;
  std::string doc;
  std::function<void(const YAML::Node&, const std::string&, Ctx&)> read;
  std::function<Schema()> children;  // for documentation of nested maps/lists
};

// Expands ${VAR} and ${VAR:-default}; an unset ${VAR} becomes empty and is reported in `unset`.
std::string expand_env(const std::string& in, std::vector<std::string>* unset = nullptr);

// " (line N)" for a node that has a position in the file, else "".
std::string where(const YAML::Node& n);

// Reads a map against `schema`: unknown keys are reported with the known ones.
void read_map(const YAML::Node& n, const std::string& path, Ctx& ctx, const Schema& schema);

Key str(std::string name, std::string* out, std::string doc);
Key boolean(std::string name, bool* out, std::string doc);
Key duration(std::string name, milliseconds* out, std::string doc, bool allow_zero);
Key integer(std::string name, int* out, std::string doc, int min, int max);
Key size(std::string name, std::uint64_t* out, std::string doc, std::uint64_t min);
// `check` returns an error message for a bad item ("" when good); bad items are left out.
Key strlist(std::string name, std::vector<std::string>* out, std::string doc,
            std::function<std::string(const std::string&)> check = nullptr);
// A map of string to string (e.g. reason → severity), at most kMaxMapEntries entries. `check`
// returns an error message for a bad entry ("" when good); bad entries are left out. Entries
// read replace the defaults with the same key and keep the others; the documented default is the
// map's contents when the schema is built.
inline constexpr std::size_t kMaxMapEntries = 256;
Key strmap(std::string name, std::map<std::string, std::string>* out, std::string doc,
           std::function<std::string(const std::string& key, const std::string& value)> check);
Key section(std::string name, std::string doc, std::function<Schema()> schema);
// A list of maps, each read into a T with schema(item).
template <class T>
Key list_of(std::string name, std::vector<T>* out, std::string doc,
            std::function<Schema(T&)> schema) {
  return {name,
          "list",
          "[]",
          doc,
          [out, schema](const YAML::Node& n, const std::string& p, Ctx& c) {
            if (n.IsNull()) return;
            if (!n.IsSequence()) return c.error(p, "expected a list" + where(n));
            out->clear();
            for (std::size_t i = 0; i < n.size(); ++i) {
              T item;
              read_map(n[i], p + "[" + std::to_string(i) + "]", c, schema(item));
              out->push_back(std::move(item));
            }
          },
          [schema] {
            static T doc_item;
            return schema(doc_item);
          }};
}

// Shared checks.
std::string check_namespace(const std::string& s);  // a DNS-1123 label, or why not
bool is_http_url(const std::string& s);

// The reference documentation of a schema (every key with its default and doc).
void document(const Schema& schema, const std::string& indent, std::ostringstream& out);

}  // namespace podmedic::config
