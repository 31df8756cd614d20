#pragma once
// Alertmanager's webhook payload (version 4), the body of POST /api/alertmanager, read without
// trusting it: any JSON type anywhere, huge numbers, invalid UTF-8, thousands of labels. Pure
// (text → Result, never throws; fuzz/alertmanager_payload_fuzz.cpp drives it).
// - The top level must be an object with "version": "4" and an "alerts" array; otherwise an
//   error (400), with `fault` saying how to count it.
// - Each alert must be an object with a string "status", a "labels" object, a non-empty
//   "fingerprint" of at most 64 bytes and an RFC3339 "startsAt"; one that is not is skipped
//   (counted in `skipped`, the first reason kept). At most kMaxAlerts alerts are read.
// - Labels: at most kMaxLabels (plus namespace, pod, alertname and podmedic_incident, which are
//   always kept), names of at most 128 bytes, string values cut to
//   kMaxLabelValue bytes; non-string values are left out. They are peer text: the caller seals
//   them with the redactor before they reach any sink.
// classify() then decides what podmedic does with each alert (pure too).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/peer_errors.h"
#include "core/result.h"

namespace podmedic::server {

struct AmAlert {
  std::string fingerprint;  // Alertmanager's, with starts_at the identity of one firing
  std::string status;       // firing | resolved (anything else is kept as sent)
  std::string starts_at;    // RFC3339 as sent
  std::int64_t starts_unix = 0;
  std::vector<std::pair<std::string, std::string>> labels;  // name-sorted
  // A label's value, "" when absent.
  std::string label(std::string_view name) const;
};

struct AmPayload {
  std::vector<AmAlert> alerts;
  std::size_t skipped = 0;
  std::string first_skip;
};

struct AmPayloadError {
  std::string message;
  PeerFault fault = PeerFault::kMalformed;
};

inline constexpr std::size_t kMaxAlerts = 1000;
inline constexpr std::size_t kMaxLabels = 64;
inline constexpr std::size_t kMaxLabelValue = 1024;

// The payload, or why not (the error names the field).
std::variant<AmPayload, AmPayloadError> parse_alertmanager_payload(std::string_view body);

// What to do with one alert.
enum class AmDisposition {
  kDiagnose,    // firing, namespace and pod set and valid, ours not
  kResolved,    // not firing: nothing to diagnose
  kOurs,        // carries podmedic_incident: our own alert coming back
  kNoPod,       // no (valid) namespace or pod label
  kOutOfScope,  // the namespace is outside the watch scope
};
// `in_scope` null: every namespace is.
AmDisposition classify(const AmAlert& a, const std::function<bool(const std::string&)>& in_scope);

}  // namespace podmedic::server
