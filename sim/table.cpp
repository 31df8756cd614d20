#include "sim/table.h"

#include <algorithm>

#include "core/parse.h"
#include "core/units.h"

namespace podmedic::sim {

using json = nlohmann::json;

namespace {

const json kEmpty = json::object();

const json& object_at(const json& j, std::string_view key) {
  const json* m = parse::get_object(j, key);
  return m ? *m : kEmpty;
}

std::string since(std::int64_t t, std::int64_t now) {
  return t == 0 ? "<unknown>" : human_duration(now - t);
}

std::string or_none(std::string s) {
  return s.empty() ? "<none>" : s;
}

json column(const char* name, const char* description, int priority = 0, const char* format = "") {
  return {{"name", name},
          {"type", "string"},
          {"format", format},
          {"description", description},
          {"priority", priority}};
}

// PartialObjectMetadata of the row, as includeObject=Metadata (the default) returns it.
json row_object(const json& obj) {
  json meta = object_at(obj, "metadata");
  meta.erase("managedFields");
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", std::move(meta)}};
}

json pod_cells(const json& pod, std::int64_t now) {
  const auto row = pod_row(pod, now);
  const json& status = object_at(pod, "status");
  const json& spec = object_at(pod, "spec");
  return {parse::string_or(object_at(pod, "metadata"), "name"),
          row.ready,
          row.status,
          row.restarts,
          row.age,
          or_none(parse::string_or(status, "podIP")),
          or_none(parse::string_or(spec, "nodeName")),
          or_none(parse::string_or(status, "nominatedNodeName")),
          "<none>"};
}

// kubectl's event printer: the last time seen (series, lastTimestamp, else the first time),
// the involved object as kind/name.
json event_cells(const json& ev, std::int64_t now) {
  std::int64_t first = parse_rfc3339(parse::string_or(ev, "firstTimestamp"));
  if (first == 0) first = parse_rfc3339(parse::string_or(ev, "eventTime"));
  std::int64_t last = parse_rfc3339(parse::string_or(ev, "lastTimestamp"));
  if (last == 0) last = first;
  auto count = parse::integer_or<std::int64_t>(ev, "count", 0);
  if (const json* series = parse::get_object(ev, "series")) {
    last = parse_rfc3339(parse::string_or(*series, "lastObservedTime"));
    count = parse::integer_or<std::int64_t>(*series, "count", 0);
  } else if (count == 0) {
    count = 1;
  }
  const json& involved = object_at(ev, "involvedObject");
  std::string kind = parse::string_or(involved, "kind");
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string name = parse::string_or(involved, "name");
  const json& source = object_at(ev, "source");
  std::string from = parse::string_or(source, "component");
  if (from.empty()) from = parse::string_or(ev, "reportingComponent");
  if (const auto host = parse::string_or(source, "host"); !host.empty()) from += ", " + host;
  return {since(last, now),
          parse::string_or(ev, "type"),
          parse::string_or(ev, "reason"),
          name.empty() ? kind : kind + "/" + name,
          parse::string_or(involved, "fieldPath"),
          from,
          parse::string_or(ev, "message"),
          since(first, now),
          count,
          parse::string_or(object_at(ev, "metadata"), "name")};
}

json pod_columns() {
  return {column("Name",
                 "Name must be unique within a namespace. Is required when creating resources, "
                 "although some resources may allow a client to request the generation of an "
                 "appropriate name automatically.",
                 0, "name"),
          column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
          column("Status", "The aggregate status of the containers in this pod."),
          column("Restarts",
                 "The number of times the containers in this pod have been restarted and when "
                 "the last container in this pod has restarted."),
          column("Age",
                 "CreationTimestamp is a timestamp representing the server time when this "
                 "object was created."),
          column("IP", "IP address allocated to the pod. Routable at least within the cluster.", 1),
          column("Node", "NodeName is a request to schedule this pod onto a specific node.", 1),
          column("Nominated Node",
                 "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
          column("Readiness Gates",
                 "If specified, all readiness gates will be evaluated for pod "
                 "readiness.",
                 1)};
}

json event_columns() {
  return {column("Last Seen", "The last time the event was seen."),
          column("Type", "Type of this event (Normal, Warning)."),
          column("Reason", "The reason for the transition into the object's current status."),
          column("Object", "The object this event is about."),
          column("Subobject", "The field of the object this event is about.", 1),
          column("Source", "The component reporting this event.", 1),
          column("Message", "A human-readable description of the status of this operation."),
          column("First Seen", "The first time the event was seen.", 1),
          column("Count", "The number of times this event has occurred.", 1),
          column("Name", "The name of the event.", 1, "name")};
}

}  // namespace

bool wants_table(std::string_view accept) {
  // Media types separated by ',', parameters by ';' (spaces allowed around them).
  while (!accept.empty()) {
    auto comma = accept.find(',');
    std::string_view type = accept.substr(0, comma);
    bool table = false, v1 = false, meta = false;
    for (std::size_t start = 0; start <= type.size();) {
      auto semi = type.find(';', start);
      std::string_view p =
          type.substr(start, semi == std::string_view::npos ? type.npos : semi - start);
      while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
      while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
      table |= p == "as=Table";
      v1 |= p == "v=v1";
      meta |= p == "g=meta.k8s.io";
      if (semi == std::string_view::npos) break;
      start = semi + 1;
    }
    if (table && v1 && meta && type.find("application/json") != std::string_view::npos) return true;
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return false;
}

std::string human_duration(std::int64_t s) {
  const auto str = [](std::int64_t v) { return std::to_string(v); };
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return str(s) + "s";
  const std::int64_t minutes = s / 60;
  if (minutes < 10)
    return s % 60 == 0 ? str(minutes) + "m" : str(minutes) + "m" + str(s % 60) + "s";
  if (minutes < 180) return str(minutes) + "m";
  const std::int64_t hours = s / 3600;
  if (hours < 8)
    return minutes % 60 == 0 ? str(hours) + "h" : str(hours) + "h" + str(minutes % 60) + "m";
  if (hours < 48) return str(hours) + "h";
  if (hours < 24 * 8)
    return hours % 24 == 0 ? str(hours / 24) + "d" : str(hours / 24) + "d" + str(hours % 24) + "h";
  if (hours < 24 * 365 * 2) return str(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    const std::int64_t days = (hours / 24) % 365;
    return days == 0 ? str(hours / 24 / 365) + "y" : str(hours / 24 / 365) + "y" + str(days) + "d";
  }
  return str(hours / 24 / 365) + "y";
}

PodRow pod_row(const json& pod, std::int64_t now) {
  // kubectl's printPod (pkg/printers/internalversion/printers.go), init containers left out:
  // the last container whose state has a reason sets STATUS; Completed with a container still
  // running reads Running (or NotReady); a pod being deleted reads Terminating.
  const json& meta = object_at(pod, "metadata");
  const json& status = object_at(pod, "status");
  const json* spec_containers = parse::get_array(object_at(pod, "spec"), "containers");
  const std::size_t total = spec_containers ? spec_containers->size() : 0;
  std::string reason = parse::string_or(status, "phase");
  if (auto r = parse::string_or(status, "reason"); !r.empty()) reason = r;
  std::int64_t restarts = 0, last_restart = 0;
  std::size_t ready = 0;
  bool has_running = false;
  if (const json* list = parse::get_array(status, "containerStatuses")) {
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
      const json& c = *it;
      restarts += parse::integer_or<std::int64_t>(c, "restartCount", 0);
      const json& last_term = object_at(object_at(c, "lastState"), "terminated");
      last_restart =
          std::max(last_restart, parse_rfc3339(parse::string_or(last_term, "finishedAt")));
      const json& state = object_at(c, "state");
      const json* waiting = parse::get_object(state, "waiting");
      const json* terminated = parse::get_object(state, "terminated");
      if (waiting && !parse::string_or(*waiting, "reason").empty()) {
        reason = parse::string_or(*waiting, "reason");
      } else if (terminated && !parse::string_or(*terminated, "reason").empty()) {
        reason = parse::string_or(*terminated, "reason");
      } else if (terminated) {
        const auto signal = parse::integer_or<std::int64_t>(*terminated, "signal", 0);
        reason = signal != 0 ? "Signal:" + std::to_string(signal)
                             : "ExitCode:" + std::to_string(parse::integer_or<std::int64_t>(
                                                 *terminated, "exitCode", 0));
      } else if (parse::bool_or(c, "ready", false) && parse::get_object(state, "running")) {
        has_running = true;
        ++ready;
      }
    }
  }
  if (reason == "Completed" && has_running) {
    bool pod_ready = false;
    if (const json* conds = parse::get_array(status, "conditions")) {
      for (const auto& c : *conds) {
        if (parse::string_or(c, "type") == "Ready" && parse::string_or(c, "status") == "True")
          pod_ready = true;
      }
    }
    reason = pod_ready ? "Running" : "NotReady";
  }
  if (!parse::string_or(meta, "deletionTimestamp").empty()) {
    reason = parse::string_or(status, "reason") == "NodeLost" ? "Unknown" : "Terminating";
  }
  PodRow row;
  row.ready = std::to_string(ready) + "/" + std::to_string(total);
  row.status = reason;
  row.restarts = std::to_string(restarts);
  if (last_restart != 0) row.restarts += " (" + human_duration(now - last_restart) + " ago)";
  row.age = since(parse_rfc3339(parse::string_or(meta, "creationTimestamp")), now);
  return row;
}

std::optional<std::string> to_table(Res r, std::string_view body, std::int64_t now) {
  if (r != Res::kPods && r != Res::kEvents) return std::nullopt;
  auto parsed = parse::json_text(body, "table source");
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  const json& src = parsed.value();
  const auto cells = [&](const json& obj) {
    return r == Res::kPods ? pod_cells(obj, now) : event_cells(obj, now);
  };
  json rows = json::array();
  json meta = json::object();
  const json& src_meta = object_at(src, "metadata");
  if (const json* items = parse::get_array(src, "items")) {
    for (const auto& item : *items)
      rows.push_back({{"cells", cells(item)}, {"object", row_object(item)}});
    for (const char* key : {"resourceVersion", "continue"}) {
      if (auto v = parse::get_string(src_meta, key); v && !v->empty()) meta[key] = *v;
    }
    if (auto left = parse::get_integer<std::int64_t>(src_meta, "remainingItemCount"))
      meta["remainingItemCount"] = *left;
  } else {
    rows.push_back({{"cells", cells(src)}, {"object", row_object(src)}});
    meta["resourceVersion"] = parse::string_or(src_meta, "resourceVersion");
  }
  json table = {{"kind", "Table"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", std::move(meta)},
                {"columnDefinitions", r == Res::kPods ? pod_columns() : event_columns()},
                {"rows", std::move(rows)}};
  return parse::dump(table);
}

}  // namespace podmedic::sim
