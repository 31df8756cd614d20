#pragma once
// The simulated API server's object store: objects with integer resourceVersions, a bounded
// change history (the "watch cache" window: older RVs are 410 Expired), label/field selectors
// with the apiserver's error messages, and paged lists with continue tokens. Pure logic, no I/O.
// Not thread-safe: owned by the simulator's io_context thread.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace podmedic::sim {

enum class Res {
  kPods,
  kEvents,
  kReplicaSets,
  kDeployments,
  kNamespaces,
  kLeases,
  kConfigMaps,
  kNodes,
  kControllerRevisions
};

struct ResInfo {
  Res res;
  const char* plural;
  const char* kind;
  const char* api_version;  // v1, apps/v1
  bool namespaced;
};
const ResInfo& info(Res r);
std::optional<Res> res_from_plural(std::string_view group_version, std::string_view plural);

struct Object {
  std::string ns, name;
  std::uint64_t rv = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> fields;  // values for field selectors
  std::string text;  // JSON without kind/apiVersion (the form list items take)
};
using ObjPtr = std::shared_ptr<const Object>;

enum class ChangeType { kAdded, kModified, kDeleted };
const char* to_string(ChangeType t);

struct Change {
  std::uint64_t rv;
  Res res;
  ChangeType type;
  ObjPtr obj;   // new state (for DELETED: the last state with the deletion's RV)
  ObjPtr prev;  // previous state, null for ADDED
};

struct ApiStatus {
  int code;
  std::string reason;
  std::string message;
};

// A parsed label or field selector: AND of requirements.
struct Requirement {
  enum Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists } op;
  std::string key;
  std::vector<std::string> values;
};
struct Selector {
  std::vector<Requirement> reqs;
  bool matches(const std::map<std::string, std::string>& kv) const;
  bool empty() const { return reqs.empty(); }
};
std::optional<ApiStatus> parse_label_selector(const std::string& text, Selector& out);
std::optional<ApiStatus> parse_field_selector(Res r, const std::string& text, Selector& out);

// The apiserver's decoding of a client-written object (Leases and ConfigMaps, written by other
// podmedic replicas in HA): the body must be a JSON object whose known fields have their types
// (metadata an object, metadata.resourceVersion a string, ConfigMap data an object of strings,
// Lease spec.leaseDurationSeconds an int32, ...; null reads as absent). nullopt when it decodes,
// else 400 BadRequest naming the field.
std::optional<ApiStatus> validate_write(Res r, const nlohmann::json& body);

struct ListQuery {
  std::string ns;  // empty: all namespaces
  Selector labels, fields;
  long long limit = 0;
  std::string continue_token;
  std::string resource_version;
  std::string resource_version_match;
};

struct ListResult {
  std::string body;  // the complete JSON list
  std::size_t items = 0;
};

class Store {
 public:
  explicit Store(std::size_t history_limit = 10000);

  // Create or replace; assigns uid/creationTimestamp when missing and a fresh resourceVersion.
  // For our own objects: `obj` must be a JSON object (a non-object metadata is replaced by {}).
  ObjPtr upsert(Res r, nlohmann::json obj);
  // The apiserver's write semantics for clients: create fails with 409 AlreadyExists when the
  // object exists; update fails with 409 Conflict when metadata.resourceVersion is not the
  // current one (optimistic concurrency), 404 when it does not exist. Client bodies are checked
  // with validate_write first (400 on a wrong type, 422 without a name on create).
  std::variant<ObjPtr, ApiStatus> create(Res r, nlohmann::json obj);
  std::variant<ObjPtr, ApiStatus> update(Res r, nlohmann::json obj);
  bool remove(Res r, const std::string& ns, const std::string& name);
  std::optional<nlohmann::json> get(Res r, const std::string& ns, const std::string& name) const;
  ObjPtr get_ptr(Res r, const std::string& ns, const std::string& name) const;
  std::vector<ObjPtr> all(Res r, const std::string& ns = "") const;

  std::variant<ListResult, ApiStatus> list(Res r, const ListQuery& q) const;
  // Changes after `rv` for watch replay, or 410 Expired if the window no longer covers them.
  std::variant<std::vector<Change>, ApiStatus> changes_since(Res r, std::uint64_t rv) const;

  std::uint64_t current_rv() const { return rv_; }
  std::uint64_t oldest_rv() const { return compacted_rv_; }
  // Drops the whole change history (etcd compaction): watches from older RVs now get 410, and
  // continue tokens issued before now expire.
  void compact();

  // Called for every change, after it is applied.
  std::function<void(const Change&)> on_change;

  static bool matches(const Object& o, const std::string& ns, const Selector& labels,
                      const Selector& fields);
  static std::string with_kind(Res r, const Object& o);

 private:
  ObjPtr make_object(Res r, nlohmann::json& obj);
  void record(Change c);
  std::uint64_t rv_ = 1000;
  std::uint64_t compacted_rv_ = 1000;
  std::size_t history_limit_;
  std::map<Res, std::map<std::string, ObjPtr>> objects_;  // key ns/name, ordered for paging
  std::deque<Change> history_;
  std::uint64_t uid_counter_ = 0;
};

nlohmann::json status_json(const ApiStatus& s, const std::string& details_kind = "",
                           const std::string& details_name = "");

}  // namespace podmedic::sim
