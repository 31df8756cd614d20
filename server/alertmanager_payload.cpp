#include "server/alertmanager_payload.h"

#include <algorithm>

#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"

namespace podmedic::server {

using json = nlohmann::json;

namespace {

// A DNS-1123 name of at most `max` bytes: [a-z0-9] with '-' (and '.' when `dots`) inside.
bool dns_name(const std::string& s, std::size_t max, bool dots) {
  if (s.empty() || s.size() > max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alnum(c) || c == '-' || (dots && c == '.'); });
}

// One alert, or why it is skipped.
Result<AmAlert> parse_alert(const json& a) {
  if (!a.is_object()) return Error{std::string("expected an object, got ") + parse::type_name(a)};
  AmAlert out;
  auto status = parse::need_string(a, "status");
  if (!status.ok()) return status.error();
  out.status = text::cut_utf8_with_marker(*status, 32);
  auto fp = parse::need_string(a, "fingerprint");
  if (!fp.ok()) return fp.error();
  if (fp->empty() || fp->size() > 64) return Error{"field \"fingerprint\": empty or over 64 bytes"};
  out.fingerprint = std::move(*fp);
  auto starts = parse::need_string(a, "startsAt");
  if (!starts.ok()) return starts.error();
  out.starts_unix = parse_rfc3339(*starts);
  if (out.starts_unix <= 0 || starts->size() > 64)
    return Error{"field \"startsAt\": not an RFC3339 time"};
  out.starts_at = std::move(*starts);
  const json* labels = parse::get_object(a, "labels");
  if (!labels || !labels->is_object()) return parse::field_error(a, "labels", "an object");
  for (const auto& [name, value] : labels->items()) {
    // What podmedic reads itself is kept whatever else the alert carries.
    const bool essential =
        name == "namespace" || name == "pod" || name == "alertname" || name == "podmedic_incident";
    if (out.labels.size() >= kMaxLabels && !essential) continue;
    const auto* text = value.get_ptr<const std::string*>();  // null unless a string
    if (name.empty() || name.size() > 128 || !text) continue;
    out.labels.emplace_back(name, text::cut_utf8_with_marker(*text, kMaxLabelValue));
  }
  std::sort(out.labels.begin(), out.labels.end());
  return out;
}

}  // namespace

std::string AmAlert::label(std::string_view name) const {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return {};
}

std::variant<AmPayload, AmPayloadError> parse_alertmanager_payload(std::string_view body) {
  auto j = parse::json_text(body, "Alertmanager payload");
  if (!j.ok()) return AmPayloadError{j.error().message, PeerFault::kMalformed};
  if (!j->is_object())
    return AmPayloadError{std::string("expected an object, got ") + parse::type_name(*j),
                          PeerFault::kWrongType};
  auto version = parse::need_string(*j, "version");
  if (!version.ok()) return AmPayloadError{version.error().message, PeerFault::kWrongType};
  if (*version != "4")
    return AmPayloadError{"version \"" + text::cut_utf8_with_marker(*version, 16) +
                              "\" is not supported (Alertmanager's webhook version 4 is)",
                          PeerFault::kWrongType};
  const json* alerts = parse::get_array(*j, "alerts");
  if (!alerts || !alerts->is_array())
    return AmPayloadError{parse::field_error(*j, "alerts", "an array").message,
                          PeerFault::kWrongType};
  AmPayload out;
  std::size_t i = 0;
  for (const auto& a : *alerts) {
    if (out.alerts.size() >= kMaxAlerts) {
      out.skipped += alerts->size() - i;
      if (out.first_skip.empty()) out.first_skip = "more than " + std::to_string(kMaxAlerts);
      break;
    }
    auto alert = parse_alert(a);
    if (alert.ok()) {
      out.alerts.push_back(std::move(alert).value());
    } else {
      if (out.skipped++ == 0)
        out.first_skip = "alerts[" + std::to_string(i) + "]: " + alert.error().message;
    }
    ++i;
  }
  return out;
}

AmDisposition classify(const AmAlert& a, const std::function<bool(const std::string&)>& in_scope) {
  if (a.status != "firing") return AmDisposition::kResolved;
  auto has = [&](std::string_view name) {
    return std::any_of(a.labels.begin(), a.labels.end(),
                       [&](const auto& kv) { return kv.first == name; });
  };
  if (has("podmedic_incident")) return AmDisposition::kOurs;
  const std::string ns = a.label("namespace"), pod = a.label("pod");
  if (!dns_name(ns, 63, false) || !dns_name(pod, 253, true)) return AmDisposition::kNoPod;
  if (in_scope && !in_scope(ns)) return AmDisposition::kOutOfScope;
  return AmDisposition::kDiagnose;
}

}  // namespace podmedic::server
