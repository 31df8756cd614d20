#include "sim/store.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>

#include "core/parse.h"
#include "core/units.h"
#include "k8s/connection.h"

namespace podmedic::sim {

const ResInfo& info(Res r) {
  static const ResInfo table[] = {
      {Res::kPods, "pods", "Pod", "v1", true},
      {Res::kEvents, "events", "Event", "v1", true},
      {Res::kReplicaSets, "replicasets", "ReplicaSet", "apps/v1", true},
      {Res::kDeployments, "deployments", "Deployment", "apps/v1", true},
      {Res::kNamespaces, "namespaces", "Namespace", "v1", false},
      {Res::kLeases, "leases", "Lease", "coordination.k8s.io/v1", true},
      {Res::kConfigMaps, "configmaps", "ConfigMap", "v1", true},
      {Res::kNodes, "nodes", "Node", "v1", false},
      {Res::kControllerRevisions, "controllerrevisions", "ControllerRevision", "apps/v1", true},
  };
  return table[static_cast<int>(r)];
}

std::optional<Res> res_from_plural(std::string_view gv, std::string_view plural) {
  for (Res r : {Res::kPods, Res::kEvents, Res::kReplicaSets, Res::kDeployments, Res::kNamespaces,
                Res::kLeases, Res::kConfigMaps, Res::kNodes, Res::kControllerRevisions}) {
    if (info(r).plural == plural && info(r).api_version == gv) return r;
  }
  return std::nullopt;
}

const char* to_string(ChangeType t) {
  switch (t) {
    case ChangeType::kAdded:
      return "ADDED";
    case ChangeType::kModified:
      return "MODIFIED";
    case ChangeType::kDeleted:
      return "DELETED";
  }
  return "";
}

bool Selector::matches(const std::map<std::string, std::string>& kv) const {
  for (const auto& r : reqs) {
    auto it = kv.find(r.key);
    bool has = it != kv.end();
    switch (r.op) {
      case Requirement::kEq:
        if (!has || it->second != r.values[0]) return false;
        break;
      case Requirement::kNotEq:
        if (has && it->second == r.values[0]) return false;
        break;
      case Requirement::kIn:
        if (!has || std::find(r.values.begin(), r.values.end(), it->second) == r.values.end())
          return false;
        break;
      case Requirement::kNotIn:
        if (has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end())
          return false;
        break;
      case Requirement::kExists:
        if (!has) return false;
        break;
      case Requirement::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

namespace {

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Splits on commas outside parentheses.
std::vector<std::string> split_terms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!trim(cur).empty() || !out.empty()) out.push_back(trim(cur));
  return out;
}

ApiStatus bad_request(std::string msg) {
  return ApiStatus{400, "BadRequest", std::move(msg)};
}

}  // namespace

std::optional<ApiStatus> parse_label_selector(const std::string& text, Selector& out) {
  for (const auto& term : split_terms(text)) {
    if (term.empty())
      return bad_request("unable to parse requirement: found '', expected: identifier");
    Requirement r;
    std::size_t p;
    if ((p = term.find(" notin ")) != std::string::npos ||
        (p = term.find(" in ")) != std::string::npos) {
      bool notin = term.compare(p, 7, " notin ") == 0;
      r.op = notin ? Requirement::kNotIn : Requirement::kIn;
      r.key = trim(term.substr(0, p));
      auto open = term.find('(', p), close = term.rfind(')');
      if (open == std::string::npos || close == std::string::npos || close < open) {
        return bad_request("unable to parse requirement: found '" + term + "', expected: '('");
      }
      std::string inner = term.substr(open + 1, close - open - 1);
      for (auto& v : split_terms(inner)) r.values.push_back(v);
    } else if ((p = term.find("!=")) != std::string::npos) {
      r.op = Requirement::kNotEq;
      r.key = trim(term.substr(0, p));
      r.values.push_back(trim(term.substr(p + 2)));
    } else if ((p = term.find("==")) != std::string::npos) {
      r.op = Requirement::kEq;
      r.key = trim(term.substr(0, p));
      r.values.push_back(trim(term.substr(p + 2)));
    } else if ((p = term.find('=')) != std::string::npos) {
      r.op = Requirement::kEq;
      r.key = trim(term.substr(0, p));
      r.values.push_back(trim(term.substr(p + 1)));
    } else if (term[0] == '!') {
      r.op = Requirement::kNotExists;
      r.key = trim(term.substr(1));
    } else {
      r.op = Requirement::kExists;
      r.key = term;
    }
    if (r.key.empty()) return bad_request("unable to parse requirement: found '" + term + "'");
    out.reqs.push_back(std::move(r));
  }
  return std::nullopt;
}

namespace {
const std::vector<std::string>& field_labels(Res r) {
  static const std::vector<std::string> pods = {"metadata.name",
                                                "metadata.namespace",
                                                "spec.nodeName",
                                                "spec.restartPolicy",
                                                "spec.schedulerName",
                                                "spec.serviceAccountName",
                                                "spec.hostNetwork",
                                                "status.phase",
                                                "status.podIP",
                                                "status.podIPs",
                                                "status.nominatedNodeName"};
  static const std::vector<std::string> events = {"involvedObject.kind",
                                                  "involvedObject.namespace",
                                                  "involvedObject.name",
                                                  "involvedObject.uid",
                                                  "involvedObject.apiVersion",
                                                  "involvedObject.resourceVersion",
                                                  "involvedObject.fieldPath",
                                                  "reason",
                                                  "reportingComponent",
                                                  "source",
                                                  "type",
                                                  "metadata.name",
                                                  "metadata.namespace"};
  static const std::vector<std::string> rs = {"metadata.name", "metadata.namespace",
                                              "status.replicas"};
  static const std::vector<std::string> meta = {"metadata.name", "metadata.namespace"};
  static const std::vector<std::string> ns = {"metadata.name", "status.phase"};
  switch (r) {
    case Res::kPods:
      return pods;
    case Res::kEvents:
      return events;
    case Res::kReplicaSets:
      return rs;
    case Res::kDeployments:
      return meta;
    case Res::kNamespaces:
      return ns;
    case Res::kLeases:
    case Res::kConfigMaps:
    case Res::kNodes:
    case Res::kControllerRevisions:
      return meta;
  }
  return meta;
}

std::string str_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* cur = &j;
  for (const char* p : path) {
    cur = parse::member(*cur, p);
    if (!cur) return "";
  }
  if (const auto* s = cur->get_ptr<const std::string*>()) return *s;
  if (const auto* b = cur->get_ptr<const bool*>()) return *b ? "true" : "false";
  if (cur->is_number()) return parse::dump(*cur);
  return "";
}
}  // namespace

std::optional<ApiStatus> parse_field_selector(Res r, const std::string& text, Selector& out) {
  const auto& allowed = field_labels(r);
  for (const auto& term : split_terms(text)) {
    Requirement req;
    std::size_t p;
    if ((p = term.find("!=")) != std::string::npos) {
      req.op = Requirement::kNotEq;
      req.key = trim(term.substr(0, p));
      req.values.push_back(trim(term.substr(p + 2)));
    } else if ((p = term.find("==")) != std::string::npos) {
      req.op = Requirement::kEq;
      req.key = trim(term.substr(0, p));
      req.values.push_back(trim(term.substr(p + 2)));
    } else if ((p = term.find('=')) != std::string::npos) {
      req.op = Requirement::kEq;
      req.key = trim(term.substr(0, p));
      req.values.push_back(trim(term.substr(p + 1)));
    } else {
      return bad_request("invalid selector: '" + text + "'; can't understand '" + term + "'");
    }
    if (std::find(allowed.begin(), allowed.end(), req.key) == allowed.end()) {
      return bad_request("field label not supported: " + req.key);
    }
    out.reqs.push_back(std::move(req));
  }
  return std::nullopt;
}

Store::Store(std::size_t history_limit) : history_limit_(history_limit) {}

ObjPtr Store::make_object(Res r, nlohmann::json& obj) {
  auto o = std::make_shared<Object>();
  const auto& meta = obj["metadata"];
  o->name = parse::string_or(meta, "name");
  o->ns = info(r).namespaced ? parse::string_or(meta, "namespace") : "";
  if (const auto* labels = parse::get_object(meta, "labels")) {
    for (const auto& [k, v] : labels->items()) {
      if (const auto* s = v.get_ptr<const std::string*>()) o->labels[k] = *s;
    }
  }
  o->fields["metadata.name"] = o->name;
  if (info(r).namespaced) o->fields["metadata.namespace"] = o->ns;
  switch (r) {
    case Res::kPods:
      o->fields["spec.nodeName"] = str_at(obj, {"spec", "nodeName"});
      o->fields["spec.restartPolicy"] = str_at(obj, {"spec", "restartPolicy"});
      o->fields["spec.schedulerName"] = str_at(obj, {"spec", "schedulerName"});
      o->fields["spec.serviceAccountName"] = str_at(obj, {"spec", "serviceAccountName"});
      o->fields["spec.hostNetwork"] = str_at(obj, {"spec", "hostNetwork"});
      if (o->fields["spec.hostNetwork"].empty()) o->fields["spec.hostNetwork"] = "false";
      o->fields["status.phase"] = str_at(obj, {"status", "phase"});
      o->fields["status.podIP"] = str_at(obj, {"status", "podIP"});
      o->fields["status.nominatedNodeName"] = str_at(obj, {"status", "nominatedNodeName"});
      break;
    case Res::kEvents:
      for (const char* f :
           {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"}) {
        o->fields[std::string("involvedObject.") + f] = str_at(obj, {"involvedObject", f});
      }
      o->fields["reason"] = str_at(obj, {"reason"});
      o->fields["type"] = str_at(obj, {"type"});
      o->fields["reportingComponent"] = str_at(obj, {"reportingComponent"});
      o->fields["source"] = str_at(obj, {"source", "component"});
      break;
    case Res::kReplicaSets:
      o->fields["status.replicas"] = str_at(obj, {"status", "replicas"});
      break;
    case Res::kNamespaces:
      o->fields["status.phase"] = str_at(obj, {"status", "phase"});
      break;
    default:
      break;
  }
  obj.erase("kind");
  obj.erase("apiVersion");
  o->text = parse::dump(obj);
  return o;
}

ObjPtr Store::upsert(Res r, nlohmann::json obj) {
  // Callers pass objects (create/update have validated client bodies); a missing or non-object
  // metadata becomes an empty one rather than a throw from operator[].
  assert(obj.is_object());
  if (!obj.is_object()) obj = nlohmann::json::object();
  auto& meta = obj["metadata"];
  if (!meta.is_object()) meta = nlohmann::json::object();
  std::string ns = info(r).namespaced ? parse::string_or(meta, "namespace") : "";
  std::string key = ns + "/" + parse::string_or(meta, "name");
  auto& bucket = objects_[r];
  auto it = bucket.find(key);
  ObjPtr prev = it == bucket.end() ? nullptr : it->second;
  if (!meta.contains("uid")) {
    char uid[40];
    ++uid_counter_;
    std::snprintf(uid, sizeof uid, "5a1d%04x-0000-4000-8000-%012llx", static_cast<unsigned>(r),
                  static_cast<unsigned long long>(uid_counter_));
    meta["uid"] = uid;
  }
  if (!meta.contains("creationTimestamp")) {
    meta["creationTimestamp"] =
        format_rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
  }
  meta["resourceVersion"] = std::to_string(++rv_);
  auto o = make_object(r, obj);
  const_cast<Object&>(*o).rv = rv_;
  bucket[key] = o;
  record(Change{rv_, r, prev ? ChangeType::kModified : ChangeType::kAdded, o, prev});
  return o;
}

namespace {
// "leases.coordination.k8s.io", "configmaps": how the apiserver names a resource in messages.
std::string qualified_plural(Res r) {
  std::string gv = info(r).api_version;
  auto slash = gv.find('/');
  return std::string(info(r).plural) +
         (slash == std::string::npos ? "" : "." + gv.substr(0, slash));
}
}  // namespace

namespace {
// A member that must have a type when present: null counts as absent, as Go's decoder reads it.
using Check = bool (*)(const nlohmann::json&);
bool is_string(const nlohmann::json& v) {
  return v.is_string();
}
bool is_object(const nlohmann::json& v) {
  return v.is_object();
}
bool is_array(const nlohmann::json& v) {
  return v.is_array();
}
bool is_bool(const nlohmann::json& v) {
  return v.is_boolean();
}
bool is_int64(const nlohmann::json& v) {
  return parse::to_integer<std::int64_t>(v).has_value();
}
bool is_int32(const nlohmann::json& v) {
  return parse::to_integer<std::int32_t>(v).has_value();
}
bool is_string_map(const nlohmann::json& v) {
  if (!v.is_object()) return false;
  for (const auto& [k, e] : v.items()) {
    if (!e.is_string() && !e.is_null()) return false;
  }
  return true;
}
const char* expected_for(Check c) {
  if (c == is_string) return "a string";
  if (c == is_object) return "an object";
  if (c == is_array) return "an array";
  if (c == is_bool) return "a boolean";
  if (c == is_int64) return "a 64-bit integer";
  if (c == is_int32) return "a 32-bit integer";
  return "an object of strings";
}

struct FieldRule {
  const char* name;
  Check check;
};

// Checks the members of `obj` named in `rules`; an error names "<prefix><field>".
std::optional<std::string> check_fields(const nlohmann::json& obj, const std::string& prefix,
                                        std::initializer_list<FieldRule> rules) {
  for (const auto& rule : rules) {
    const auto* v = parse::member(obj, rule.name);
    if (!v || v->is_null() || rule.check(*v)) continue;
    return prefix + rule.name + ": expected " + expected_for(rule.check) + ", got " +
           parse::type_name(*v);
  }
  return std::nullopt;
}
}  // namespace

std::optional<ApiStatus> validate_write(Res r, const nlohmann::json& body) {
  const ResInfo& ri = info(r);
  // The apiserver's decoding failure: 400 BadRequest, "<Kind> in version ... cannot be handled".
  auto bad = [&](const std::string& why) {
    std::string version = ri.api_version;
    version = version.substr(version.find('/') + 1);
    return ApiStatus{400, "BadRequest",
                     std::string(ri.kind) + " in version \"" + version +
                         "\" cannot be handled as a " + ri.kind + ": " + why};
  };
  if (!body.is_object())
    return bad(std::string("expected an object, got ") + parse::type_name(body));
  if (auto e = check_fields(
          body, "", {{"kind", is_string}, {"apiVersion", is_string}, {"metadata", is_object}})) {
    return bad(*e);
  }
  if (const auto* meta = parse::get_object(body, "metadata")) {
    if (auto e = check_fields(*meta, "metadata.",
                              {{"name", is_string},
                               {"generateName", is_string},
                               {"namespace", is_string},
                               {"uid", is_string},
                               {"resourceVersion", is_string},
                               {"creationTimestamp", is_string},
                               {"deletionTimestamp", is_string},
                               {"selfLink", is_string},
                               {"generation", is_int64},
                               {"deletionGracePeriodSeconds", is_int64},
                               {"labels", is_string_map},
                               {"annotations", is_string_map},
                               {"ownerReferences", is_array},
                               {"finalizers", is_array},
                               {"managedFields", is_array}})) {
      return bad(*e);
    }
  }
  if (r == Res::kConfigMaps) {
    if (auto e = check_fields(
            body, "",
            {{"data", is_string_map}, {"binaryData", is_string_map}, {"immutable", is_bool}})) {
      return bad(*e);
    }
  }
  if (r == Res::kLeases) {
    if (auto e = check_fields(body, "", {{"spec", is_object}})) return bad(*e);
    if (const auto* spec = parse::get_object(body, "spec")) {
      if (auto e = check_fields(*spec, "spec.",
                                {{"holderIdentity", is_string},
                                 {"leaseDurationSeconds", is_int32},
                                 {"acquireTime", is_string},
                                 {"renewTime", is_string},
                                 {"leaseTransitions", is_int32},
                                 {"strategy", is_string},
                                 {"preferredHolder", is_string}})) {
        return bad(*e);
      }
    }
  }
  return std::nullopt;
}

std::variant<ObjPtr, ApiStatus> Store::create(Res r, nlohmann::json obj) {
  if (auto bad = validate_write(r, obj)) return *bad;
  const auto* meta = parse::get_object(obj, "metadata");
  const std::string name = meta ? parse::string_or(*meta, "name") : "";
  if (name.empty()) {
    return ApiStatus{422, "Invalid",
                     "metadata.name: Required value: name or generateName is required"};
  }
  if (get_ptr(r, parse::string_or(*meta, "namespace"), name)) {
    return ApiStatus{409, "AlreadyExists",
                     qualified_plural(r) + " \"" + name + "\" already exists"};
  }
  obj["metadata"].erase("resourceVersion");
  return upsert(r, std::move(obj));
}

std::variant<ObjPtr, ApiStatus> Store::update(Res r, nlohmann::json obj) {
  if (auto bad = validate_write(r, obj)) return *bad;
  const auto* meta = parse::get_object(obj, "metadata");
  if (!meta) {
    return ApiStatus{400, "BadRequest", "the body of the request was in an unknown format"};
  }
  const std::string name = parse::string_or(*meta, "name");
  auto current = get_ptr(r, parse::string_or(*meta, "namespace"), name);
  if (!current) {
    return ApiStatus{404, "NotFound", qualified_plural(r) + " \"" + name + "\" not found"};
  }
  std::string rv = parse::string_or(*meta, "resourceVersion");
  if (!rv.empty() && rv != std::to_string(current->rv)) {
    return ApiStatus{409, "Conflict",
                     "Operation cannot be fulfilled on " + qualified_plural(r) + " \"" + name +
                         "\": the object has been modified; please apply your changes to the "
                         "latest version and try again"};
  }
  // The uid is the server's: keep the stored one whatever the client sent.
  auto stored = parse::json_text(current->text, "stored object");
  assert(stored.ok());  // our own serialization
  std::string uid;
  if (stored.ok()) {
    if (const auto* m = parse::get_object(*stored, "metadata")) uid = parse::string_or(*m, "uid");
  }
  obj["metadata"]["uid"] = uid;
  return upsert(r, std::move(obj));
}

bool Store::remove(Res r, const std::string& ns, const std::string& name) {
  auto& bucket = objects_[r];
  auto it = bucket.find(ns + "/" + name);
  if (it == bucket.end()) return false;
  // DELETED carries the last state with the deletion's resourceVersion.
  auto parsed = parse::json_text(it->second->text, "stored object");
  assert(parsed.ok());  // our own serialization
  nlohmann::json j = parsed.ok() ? std::move(*parsed) : nlohmann::json::object();
  if (!j.is_object()) j = nlohmann::json::object();
  if (!j["metadata"].is_object()) j["metadata"] = nlohmann::json::object();
  j["metadata"]["resourceVersion"] = std::to_string(++rv_);
  auto o = make_object(r, j);
  const_cast<Object&>(*o).rv = rv_;
  ObjPtr prev = it->second;
  bucket.erase(it);
  record(Change{rv_, r, ChangeType::kDeleted, o, prev});
  return true;
}

std::optional<nlohmann::json> Store::get(Res r, const std::string& ns,
                                         const std::string& name) const {
  auto p = get_ptr(r, ns, name);
  if (!p) return std::nullopt;
  auto parsed = parse::json_text(p->text, "stored object");
  assert(parsed.ok());  // our own serialization
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

ObjPtr Store::get_ptr(Res r, const std::string& ns, const std::string& name) const {
  auto b = objects_.find(r);
  if (b == objects_.end()) return nullptr;
  auto it = b->second.find(ns + "/" + name);
  return it == b->second.end() ? nullptr : it->second;
}

std::vector<ObjPtr> Store::all(Res r, const std::string& ns) const {
  std::vector<ObjPtr> out;
  auto b = objects_.find(r);
  if (b == objects_.end()) return out;
  for (const auto& [k, o] : b->second) {
    if (ns.empty() || o->ns == ns) out.push_back(o);
  }
  return out;
}

void Store::record(Change c) {
  history_.push_back(c);
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  if (on_change) on_change(history_.back());
}

void Store::compact() {
  // Every RV issued so far becomes too old; the next list returns a fresh, watchable RV.
  history_.clear();
  compacted_rv_ = ++rv_;
}

bool Store::matches(const Object& o, const std::string& ns, const Selector& labels,
                    const Selector& fields) {
  if (!ns.empty() && o.ns != ns) return false;
  return labels.matches(o.labels) && fields.matches(o.fields);
}

std::string Store::with_kind(Res r, const Object& o) {
  std::string s = "{\"kind\":\"";
  s += info(r).kind;
  s += "\",\"apiVersion\":\"";
  s += info(r).api_version;
  s += "\"";
  if (o.text.size() > 2) s += ",";
  s.append(o.text, 1, std::string::npos);
  return s;
}

namespace {
constexpr const char* kContinueTooOld =
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to "
    "retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list.";
}

std::variant<ListResult, ApiStatus> Store::list(Res r, const ListQuery& q) const {
  if (!q.resource_version_match.empty()) {
    if (q.resource_version.empty()) {
      return ApiStatus{422, "Invalid",
                       "resourceVersionMatch is forbidden unless resourceVersion is provided"};
    }
    if (!q.continue_token.empty()) {
      return ApiStatus{422, "Invalid", "resourceVersionMatch is forbidden for continue"};
    }
    if (q.resource_version_match == "Exact" && q.resource_version == "0") {
      return ApiStatus{422, "Invalid",
                       "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""};
    }
  }
  std::uint64_t list_rv = rv_;
  std::string start_after;
  if (!q.continue_token.empty()) {
    // base64 of {"rv":<uint64>,"start":"<ns/name>"}: anything else, including wrong types, is
    // the apiserver's 400 for an undecodable token.
    bool ok = false;
    auto raw = k8s::base64_decode(q.continue_token, ok);
    auto tok = ok ? parse::json_text(raw, "continue token") : Result<nlohmann::json>(Error{""});
    std::optional<std::uint64_t> tok_rv;
    std::optional<std::string> tok_start;
    if (tok.ok()) {
      tok_rv = parse::get_integer<std::uint64_t>(*tok, "rv");
      tok_start = parse::get_string(*tok, "start");
    }
    if (!tok_rv || !tok_start) {
      return ApiStatus{400, "BadRequest",
                       "continue key is not valid: incorrect encoded start resourceVersion"};
    }
    list_rv = *tok_rv;
    start_after = std::move(*tok_start);
    if (list_rv < compacted_rv_) return ApiStatus{410, "Expired", kContinueTooOld};
  } else if (!q.resource_version.empty() && q.resource_version != "0") {
    // An unsigned decimal that fits 64 bits ("-5" and 20-digit numbers are not versions).
    auto parsed_rv = parse::integer<std::uint64_t>(q.resource_version);
    if (!parsed_rv) {
      return ApiStatus{400, "BadRequest", "invalid resource version: " + q.resource_version};
    }
    std::uint64_t want = *parsed_rv;
    if (want > rv_) {
      return ApiStatus{504, "Timeout",
                       "Timeout: Too large resource version: " + q.resource_version +
                           ", current: " + std::to_string(rv_)};
    }
    if (q.resource_version_match == "Exact" && want < compacted_rv_) {
      return ApiStatus{410, "Expired", "The resourceVersion for the provided list is too old."};
    }
  }
  ListResult out;
  std::string items;
  std::string last_key;
  bool more = false;
  auto b = objects_.find(r);
  if (b != objects_.end()) {
    auto it = start_after.empty() ? b->second.begin() : b->second.upper_bound(start_after);
    for (; it != b->second.end(); ++it) {
      const auto& o = *it->second;
      if (!matches(o, q.ns, q.labels, q.fields)) continue;
      if (q.limit > 0 && static_cast<long long>(out.items) >= q.limit) {
        more = true;
        break;
      }
      if (out.items > 0) items += ',';
      items += o.text;
      ++out.items;
      last_key = it->first;
    }
  }
  const auto& ri = info(r);
  nlohmann::json meta = {{"resourceVersion", std::to_string(list_rv)}};
  if (more) {
    meta["continue"] =
        k8s::base64_encode(parse::dump(nlohmann::json({{"rv", list_rv}, {"start", last_key}})));
  }
  out.body = std::string("{\"kind\":\"") + ri.kind + "List\",\"apiVersion\":\"" + ri.api_version +
             "\",\"metadata\":" + parse::dump(meta) + ",\"items\":[" + items + "]}";
  return out;
}

std::variant<std::vector<Change>, ApiStatus> Store::changes_since(Res r, std::uint64_t rv) const {
  if (rv < compacted_rv_) {
    return ApiStatus{410, "Expired",
                     "too old resource version: " + std::to_string(rv) + " (" +
                         std::to_string(compacted_rv_) + ")"};
  }
  std::vector<Change> out;
  for (const auto& c : history_) {
    if (c.rv > rv && c.res == r) out.push_back(c);
  }
  return out;
}

nlohmann::json status_json(const ApiStatus& s, const std::string& details_kind,
                           const std::string& details_name) {
  nlohmann::json j = {
      {"kind", "Status"},    {"apiVersion", "v1"},   {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", s.message}, {"reason", s.reason},
      {"code", s.code}};
  if (!details_kind.empty() || !details_name.empty()) {
    j["details"] = nlohmann::json::object();
    if (!details_name.empty()) j["details"]["name"] = details_name;
    j["details"]["kind"] = details_kind;
  }
  return j;
}

}  // namespace podmedic::sim
