#include "incidents/incident.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"

namespace podmedic::incidents {

std::string fingerprint(const std::string& cluster, const std::string& ns, const Workload& w,
                        const std::string& container, const std::string& reason) {
  return cluster + "/" + ns + "/" + w.kind + "/" + w.name + "/" + container + "/" + reason;
}

std::string incident_id(const std::string& fp, std::int64_t opened_at) {
  std::string input = fp + "#" + std::to_string(opened_at);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return text::hex(std::span(digest).first(8));
}

nlohmann::json summary_json(const Incident& i) {
  return {{"id", i.id},
          {"fingerprint", i.fingerprint},
          {"namespace", i.ns},
          {"reason", i.reason},
          {"workload", {{"kind", i.workload.kind}, {"name", i.workload.name}}},
          {"container", i.container},
          {"pods", i.all_pods},
          {"restarts", i.restarts},
          {"exitCode", i.exit_code},
          {"firstSeen", format_rfc3339(i.first_seen)},
          {"lastSeen", format_rfc3339(i.last_seen)},
          {"message", i.message}};
}

nlohmann::json diagnosis_json(const Incident& i) {
  if (i.diagnosis.empty()) return nullptr;
  return {{"text", i.diagnosis}, {"model", i.diagnosis_model}, {"source", "llm"}};
}

nlohmann::json changes_json(const Incident& i) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : i.changes) {
    out.push_back({{"field", c.field}, {"container", c.container}, {"from", c.from}, {"to", c.to}});
  }
  return out;
}

namespace {

constexpr std::string_view kPlaceholders[] = {"cluster", "namespace", "workload", "container",
                                              "reason"};

}  // namespace

std::string check_runbook_template(std::string_view tmpl) {
  if (tmpl.rfind("http://", 0) != 0 && tmpl.rfind("https://", 0) != 0)
    return "a runbook must be an http:// or https:// URL";
  for (std::size_t p = tmpl.find('{'); p != std::string_view::npos; p = tmpl.find('{', p + 1)) {
    auto end = tmpl.find('}', p);
    if (end == std::string_view::npos) return "unclosed \"{\" in the runbook URL";
    auto name = tmpl.substr(p + 1, end - p - 1);
    if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) ==
        std::end(kPlaceholders))
      return "unknown placeholder {" + std::string(name) +
             "}; known: {cluster}, {namespace}, {workload}, {container}, {reason}";
  }
  return "";
}

std::string expand_runbook(std::string_view tmpl, const Incident& i) {
  std::string out;
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    auto open = tmpl.find('{', pos);
    auto close = open == std::string_view::npos ? open : tmpl.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(pos, open - pos));
    auto name = tmpl.substr(open + 1, close - open - 1);
    if (name == "cluster")
      out += text::percent_encode(i.cluster);
    else if (name == "namespace")
      out += text::percent_encode(i.ns);
    else if (name == "workload")
      out += text::percent_encode(i.workload.name);
    else if (name == "container")
      out += text::percent_encode(i.container);
    else if (name == "reason")
      out += text::percent_encode(i.reason);
    else
      out.append(tmpl.substr(open, close - open + 1));  // not ours: left as written
    pos = close + 1;
  }
  out.append(tmpl.substr(std::min(pos, tmpl.size())));
  return out;
}

nlohmann::json to_json(const Incident& i) {
  nlohmann::json pods = nlohmann::json::array();
  for (const auto& [name, rec] : i.pods) pods.push_back(name);
  nlohmann::json pod_state = nlohmann::json::object();
  for (const auto& [name, rec] : i.pods) {
    pod_state[name] = {{"restarts", rec.restarts}, {"healthySince", rec.healthy_since}};
  }
  nlohmann::json j = summary_json(i);
  j["cluster"] = i.cluster;
  j["activePods"] = std::move(pods);
  j["evidence"] = i.evidence;
  j["state"] = i.open() ? "open" : "resolved";
  j["flaps"] = i.flaps;
  j["podState"] = std::move(pod_state);
  j["lastNotified"] = i.last_notified;
  if (!i.open()) j["resolvedAt"] = format_rfc3339(i.resolved_at);
  if (!i.diagnosis.empty()) j["diagnosis"] = diagnosis_json(i);
  if (!i.severity.empty()) j["severity"] = i.severity;
  if (!i.runbook_url.empty()) j["runbookUrl"] = i.runbook_url;
  j["changes"] = changes_json(i);
  if (i.pending_alert) j["pendingAlert"] = true;
  if (i.quiet) j["quiet"] = true;
  return j;
}

nlohmann::json api_json(const Incident& i, const std::string& facts) {
  nlohmann::json j = to_json(i);
  j["facts"] = facts;
  return j;
}

Result<Incident> from_json(const nlohmann::json& j) {
  using nlohmann::json;
  if (!j.is_object())
    return Error{std::string("incident: expected an object, got ") + parse::type_name(j)};
  // Every member we wrote has one type; a member of another type means the file was edited or
  // damaged, and the incident is refused with the field named (the caller sets the file aside).
  std::string bad;
  auto check = [&](const json& obj, const char* key, json::value_t type, const char* path) {
    if (bad.empty() && parse::wrong_type(obj, key, type)) bad = path;
  };
  auto str = [&](const char* k) {
    check(j, k, json::value_t::string, k);
    return parse::string_or(j, k);
  };
  Incident out;
  out.id = str("id");
  out.fingerprint = str("fingerprint");
  out.cluster = str("cluster");
  out.ns = str("namespace");
  out.reason = str("reason");
  out.container = str("container");
  check(j, "workload", json::value_t::object, "workload");
  if (const json* w = parse::get_object(j, "workload")) {
    check(*w, "kind", json::value_t::string, "workload.kind");
    check(*w, "name", json::value_t::string, "workload.name");
    out.workload.kind = parse::string_or(*w, "kind");
    out.workload.name = parse::string_or(*w, "name");
  }
  check(j, "pods", json::value_t::array, "pods");
  if (const json* pods = parse::get_array(j, "pods")) {
    for (const auto& p : *pods) {
      if (!p.is_string()) {
        if (bad.empty()) bad = "pods[]";
        continue;
      }
      if (out.all_pods.size() < kMaxStoredPods)
        out.all_pods.push_back(
            p.get_ref<const std::string&>());  // no-throw-check: is_string() checked
    }
  }
  check(j, "podState", json::value_t::object, "podState");
  if (const json* states = parse::get_object(j, "podState")) {
    for (const auto& [name, rec] : states->items()) {
      if (out.pods.size() >= kMaxStoredPods) break;
      PodRecord r;
      if (!rec.is_object()) {
        if (bad.empty()) bad = "podState." + std::string(text::cut_utf8(name, 64));
        continue;
      }
      auto restarts = parse::get_integer<std::uint32_t>(rec, "restarts");
      auto since = parse::get_integer<std::int64_t>(rec, "healthySince");
      if (parse::member(rec, "restarts") && !restarts && bad.empty()) bad = "podState.restarts";
      if (parse::member(rec, "healthySince") && !since && bad.empty())
        bad = "podState.healthySince";
      r.restarts = restarts.value_or(0);
      r.healthy_since = since.value_or(0);
      out.pods[name] = r;
    }
  }
  auto num = [&]<class T>(const char* k, T& dest) {
    auto v = parse::get_integer<T>(j, k);
    if (parse::member(j, k) && !parse::member(j, k)->is_null() && !v && bad.empty()) bad = k;
    dest = v.value_or(T{});
  };
  num("restarts", out.restarts);
  num("exitCode", out.exit_code);
  num("lastNotified", out.last_notified);
  num("flaps", out.flaps);
  out.first_seen = parse_rfc3339(str("firstSeen"));
  out.last_seen = parse_rfc3339(str("lastSeen"));
  out.resolved_at = parse_rfc3339(str("resolvedAt"));
  // Our own file, written only from Redacted values.
  out.message = Redacted::from_state(str("message"));
  out.evidence = Redacted::from_state(str("evidence"));
  check(j, "diagnosis", json::value_t::object, "diagnosis");
  if (const json* d = parse::get_object(j, "diagnosis")) {
    check(*d, "text", json::value_t::string, "diagnosis.text");
    check(*d, "model", json::value_t::string, "diagnosis.model");
    out.diagnosis = Redacted::from_state(parse::string_or(*d, "text"));
    out.diagnosis_model = parse::string_or(*d, "model");
  }
  out.severity = str("severity");
  out.runbook_url = str("runbookUrl");
  check(j, "changes", json::value_t::array, "changes");
  if (const json* changes = parse::get_array(j, "changes")) {
    for (const auto& c : *changes) {
      if (out.changes.size() >= kMaxChanges) break;
      if (!c.is_object()) {
        if (bad.empty()) bad = "changes[]";
        continue;
      }
      check(c, "field", json::value_t::string, "changes[].field");
      check(c, "container", json::value_t::string, "changes[].container");
      check(c, "from", json::value_t::string, "changes[].from");
      check(c, "to", json::value_t::string, "changes[].to");
      out.changes.push_back({parse::string_or(c, "field"), parse::string_or(c, "container"),
                             Redacted::from_state(parse::string_or(c, "from")),
                             Redacted::from_state(parse::string_or(c, "to"))});
    }
  }
  check(j, "pendingAlert", json::value_t::boolean, "pendingAlert");
  out.pending_alert = parse::bool_or(j, "pendingAlert", false);
  check(j, "quiet", json::value_t::boolean, "quiet");
  out.quiet = parse::bool_or(j, "quiet", false);
  out.state = str("state") == "resolved" ? Incident::State::kResolved : Incident::State::kOpen;
  if (!bad.empty()) return Error{"incident: field \"" + bad + "\" has the wrong type"};
  for (const char* k : {"id", "fingerprint", "reason"}) {
    if (parse::string_or(j, k).empty())
      return Error{std::string("incident: missing field \"") + k + "\""};
  }
  return out;
}

}  // namespace podmedic::incidents
