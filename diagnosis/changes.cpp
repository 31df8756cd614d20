#include "diagnosis/changes.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "core/parse.h"
#include "core/peer_errors.h"
#include "core/units.h"
#include "k8s/api.h"

namespace podmedic::diagnosis {

using json = nlohmann::json;

namespace {

// A string list (command, args); non-strings are skipped.
std::vector<std::string> strings(const json& obj, std::string_view key) {
  std::vector<std::string> out;
  const json* a = parse::get_array(obj, key);
  if (!a) return out;
  for (const auto& v : *a) {
    // get_ptr never throws: null for another type.
    if (const auto* s = v.get_ptr<const json::string_t*>()) out.push_back(*s);
  }
  return out;
}

// "secret db/password", "configMap app/url", "field metadata.name", "resource limits.memory".
std::string value_from(const json& from) {
  auto ref = [&](const char* key, const char* what) -> std::optional<std::string> {
    const json* r = parse::get_object(from, key);
    if (!r) return std::nullopt;
    return std::string(what) + " " + parse::string_or(*r, "name") + "/" +
           parse::string_or(*r, "key");
  };
  if (auto s = ref("secretKeyRef", "secret")) return *s;
  if (auto s = ref("configMapKeyRef", "configMap")) return *s;
  if (const json* f = parse::get_object(from, "fieldRef"))
    return "field " + parse::string_or(*f, "fieldPath");
  if (const json* r = parse::get_object(from, "resourceFieldRef"))
    return "resource " + parse::string_or(*r, "resource");
  return "valueFrom";
}

ContainerSpec container_spec(const json& c, bool init) {
  ContainerSpec s;
  s.init = init;
  s.name = parse::string_or(c, "name");
  s.image = parse::string_or(c, "image");
  s.command = strings(c, "command");
  s.args = strings(c, "args");
  if (const json* env = parse::get_array(c, "env")) {
    for (const auto& e : *env) {
      auto name = parse::get_string(e, "name");
      if (!name) continue;
      if (const json* from = parse::get_object(e, "valueFrom")) {
        s.env[*name] = value_from(*from);
      } else {
        s.env[*name] = "";
        // Only a hash of the value is kept: enough to tell it changed, never what it is.
        s.env_value_hash[*name] = std::hash<std::string>{}(parse::string_or(e, "value"));
      }
    }
  }
  if (const json* env_from = parse::get_array(c, "envFrom")) {
    for (const auto& e : *env_from) {
      if (const json* r = parse::get_object(e, "configMapRef"))
        s.env_from.insert("configMap " + parse::string_or(*r, "name"));
      if (const json* r = parse::get_object(e, "secretRef"))
        s.env_from.insert("secret " + parse::string_or(*r, "name"));
    }
  }
  if (const json* res = parse::get_object(c, "resources")) {
    for (const char* kind : {"limits", "requests"}) {
      const json* m = parse::get_object(*res, kind);
      if (!m) continue;
      // Quantities are strings; an integer is accepted as the API server does.
      for (const auto& [k, v] : m->items()) {
        if (auto q = parse::get_string(*m, k))
          s.resources[std::string(kind) + "." + k] = *q;
        else if (v.is_number_integer())
          s.resources[std::string(kind) + "." + k] = parse::dump(v);
      }
    }
  }
  return s;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ' ';
    s += x.find(' ') == std::string::npos && !x.empty() ? x : "'" + x + "'";
  }
  return s;
}

std::string env_text(const std::string& name, const std::string& source) {
  return source.empty() ? name : name + " from " + source;
}

const ContainerSpec* find(const TemplateSpec& t, const ContainerSpec& like) {
  for (const auto& c : t.containers)
    if (c.name == like.name && c.init == like.init) return &c;
  return nullptr;
}

// Set differences as changes: one of each kind removed and added pair up as one change
// ("configMap app-v2 (was configMap app-v1)").
void diff_refs(const std::set<std::string>& a, const std::set<std::string>& b,
               const std::string& container, std::vector<TemplateChange>& out) {
  std::vector<std::string> gone, added;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(gone));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(added));
  auto kind = [](const std::string& r) { return r.substr(0, r.find(' ')); };
  for (const auto& g : gone) {
    auto it = std::find_if(added.begin(), added.end(),
                           [&](const std::string& x) { return kind(x) == kind(g); });
    if (it != added.end()) {
      out.push_back({"configRef", container, g, *it});
      added.erase(it);
    } else {
      out.push_back({"configRef", container, g, ""});
    }
  }
  for (const auto& x : added) out.push_back({"configRef", container, "", x});
}

void diff_container(const ContainerSpec* a, const ContainerSpec& b,
                    std::vector<TemplateChange>& out, int pass) {
  static const ContainerSpec kEmpty;
  const ContainerSpec& p = a ? *a : kEmpty;
  const std::string& name = b.name;
  switch (pass) {
    case 0:
      if (!a || p.image != b.image) out.push_back({"image", name, a ? p.image : "", b.image});
      return;
    case 1:
      if (a && p.command != b.command)
        out.push_back({"command", name, joined(p.command), joined(b.command)});
      return;
    case 2:
      if (a && p.args != b.args) out.push_back({"args", name, joined(p.args), joined(b.args)});
      return;
    case 3:
      if (!a) return;
      for (const auto& [n, src] : p.env) {
        auto it = b.env.find(n);
        if (it == b.env.end()) {
          out.push_back({"env", name, env_text(n, src), ""});
        } else if (it->second != src) {
          out.push_back({"env", name, env_text(n, src), env_text(n, it->second)});
        } else if (src.empty()) {
          auto h1 = p.env_value_hash.find(n), h2 = b.env_value_hash.find(n);
          if (h1 != p.env_value_hash.end() && h2 != b.env_value_hash.end() &&
              h1->second != h2->second)
            out.push_back({"env", name, n, n + " (value changed)"});
        }
      }
      for (const auto& [n, src] : b.env)
        if (!p.env.count(n)) out.push_back({"env", name, "", env_text(n, src)});
      return;
    case 4:
      if (a) diff_refs(p.env_from, b.env_from, name, out);
      return;
    case 5:
      if (!a) return;
      for (const auto& [k, v] : p.resources) {
        auto it = b.resources.find(k);
        if (it == b.resources.end())
          out.push_back({"resources", name, k + " " + v, ""});
        else if (it->second != v)
          out.push_back({"resources", name, k + " " + v, k + " " + it->second});
      }
      for (const auto& [k, v] : b.resources)
        if (!p.resources.count(k)) out.push_back({"resources", name, "", k + " " + v});
      return;
  }
}

}  // namespace

Result<TemplateSpec> template_spec(const json& pod_template) {
  const json* spec = parse::get_object(pod_template, "spec");
  if (!spec) return Error{"pod template without a spec object"};
  TemplateSpec t;
  for (auto [key, init] : {std::pair{"initContainers", true}, std::pair{"containers", false}}) {
    const json* list = parse::get_array(*spec, key);
    if (!list) continue;
    for (const auto& c : *list) {
      if (!c.is_object() || t.containers.size() >= kMaxContainers) continue;
      t.containers.push_back(container_spec(c, init));
    }
  }
  if (const json* vols = parse::get_array(*spec, "volumes")) {
    for (const auto& v : *vols) {
      if (const json* cm = parse::get_object(v, "configMap"))
        t.volume_refs.insert("configMap " + parse::string_or(*cm, "name"));
      if (const json* s = parse::get_object(v, "secret"))
        t.volume_refs.insert("secret " + parse::string_or(*s, "secretName"));
      if (const json* p = parse::get_object(v, "projected")) {
        const json* sources = parse::get_array(*p, "sources");
        for (std::size_t i = 0; sources && i < sources->size(); ++i) {
          const json& src = *parse::element(*sources, i);
          const std::string name = [&] {
            if (const json* cm = parse::get_object(src, "configMap"))
              return "configMap " + parse::string_or(*cm, "name");
            if (const json* s = parse::get_object(src, "secret"))
              return "secret " + parse::string_or(*s, "name");
            return std::string();
          }();
          if (!name.empty()) t.volume_refs.insert(name);
        }
      }
    }
  }
  return t;
}

std::vector<TemplateChange> diff_templates(const TemplateSpec& before, const TemplateSpec& after) {
  std::vector<TemplateChange> out;
  for (int pass = 0; pass < 6; ++pass) {
    for (const auto& c : after.containers) diff_container(find(before, c), c, out, pass);
    if (pass == 0) {
      for (const auto& c : before.containers)
        if (!find(after, c)) out.push_back({"image", c.name, c.image, ""});
    }
    if (pass == 4) diff_refs(before.volume_refs, after.volume_refs, "", out);
  }
  if (out.size() > kMaxChanges) out.resize(kMaxChanges);
  return out;
}

Result<std::vector<Revision>> parse_revisions(std::string_view body) {
  auto j = parse::json_text(body, "revision list");
  if (!j.ok()) return j.error();
  const json* items = parse::get_array(*j, "items");
  if (!items) return Error{"revision list: no items array"};
  std::vector<Revision> out;
  for (const auto& item : *items) {
    if (out.size() >= static_cast<std::size_t>(kMaxItems)) break;
    const json* meta = parse::get_object(item, "metadata");
    if (!meta) continue;
    Revision r;
    r.name = parse::string_or(*meta, "name");
    r.created = parse_rfc3339(parse::string_or(*meta, "creationTimestamp"));
    if (const json* owners = parse::get_array(*meta, "ownerReferences")) {
      for (const auto& o : *owners) {
        if (!parse::bool_or(o, "controller", false)) continue;
        r.owner = parse::string_or(o, "name");
        r.owner_kind = parse::string_or(o, "kind");
      }
    }
    const json* tmpl = nullptr;
    if (auto number = parse::get_integer<std::int64_t>(item, "revision")) {
      // A ControllerRevision: the template is in data.spec.template.
      r.number = *number;
      const json* data = parse::get_object(item, "data");
      const json* spec = data ? parse::get_object(*data, "spec") : nullptr;
      tmpl = spec ? parse::get_object(*spec, "template") : nullptr;
    } else {
      // A ReplicaSet: the revision is an annotation, the template spec.template.
      const json* ann = parse::get_object(*meta, "annotations");
      auto text = ann ? parse::get_string(*ann, "deployment.kubernetes.io/revision") : std::nullopt;
      auto annotated = text ? parse::integer<std::int64_t>(*text) : std::nullopt;
      if (!annotated) continue;
      r.number = *annotated;
      const json* spec = parse::get_object(item, "spec");
      tmpl = spec ? parse::get_object(*spec, "template") : nullptr;
    }
    if (!tmpl || r.owner.empty() || r.name.empty()) continue;
    auto t = template_spec(*tmpl);
    if (!t.ok()) continue;
    r.spec = std::move(*t);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<RolloutChange> rollout_change(const std::vector<Revision>& revisions,
                                            std::string_view owner_kind, std::string_view owner,
                                            std::string_view current, std::int64_t began,
                                            std::int64_t window_seconds) {
  const Revision* cur = nullptr;
  std::string_view kind = owner_kind, name = owner;
  if (owner_kind == "ReplicaSet") {
    // A Deployment's pod: its ReplicaSet is the revision it runs; the Deployment owns them all.
    for (const auto& r : revisions)
      if (r.name == current && r.owner_kind == "Deployment") cur = &r;
    if (!cur) return std::nullopt;
    kind = "Deployment";
    name = cur->owner;
  } else {
    for (const auto& r : revisions)
      if (r.owner_kind == kind && r.owner == name && (!cur || r.number > cur->number)) cur = &r;
    if (!cur) return std::nullopt;
  }
  const Revision* prev = nullptr;
  for (const auto& r : revisions) {
    if (r.owner_kind != kind || r.owner != name || r.number >= cur->number) continue;
    if (!prev || r.number > prev->number) prev = &r;
  }
  if (!prev || cur->created == 0 || cur->created > began || began - cur->created > window_seconds)
    return std::nullopt;
  RolloutChange rc{cur->name, cur->number, cur->created, prev->number,
                   diff_templates(prev->spec, cur->spec)};
  if (rc.changes.empty()) return std::nullopt;
  return rc;
}

boost::asio::awaitable<Result<std::vector<Revision>>> fetch_revisions(k8s::KubeClient& client,
                                                                      std::string ns,
                                                                      std::string pod_owner_kind) {
  using namespace std::chrono_literals;
  const bool rs = pod_owner_kind == "ReplicaSet";
  std::string target = "/apis/apps/v1/namespaces/" + k8s::url_encode(ns) +
                       (rs ? "/replicasets" : "/controllerrevisions") +
                       "?limit=" + std::to_string(kMaxItems);
  auto r = co_await client.get(std::move(target), kMaxListBytes, 30s);
  if (!r.ok()) co_return r.error();
  if (r->status != 200) co_return Error{k8s::describe(k8s::parse_status(r->status, r->body))};
  auto revs = parse_revisions(r->body);
  if (!revs.ok()) {
    if (auto* errors = client.peer_errors()) errors->count(Peer::kApiServer, PeerFault::kMalformed);
  }
  co_return revs;
}

}  // namespace podmedic::diagnosis
