#pragma once
// PagerDuty Events API v2 (POST <url>, default https://events.pagerduty.com/v2/enqueue):
// - incident.opened → `trigger` with dedup_key = the incident id, payload {summary (≤ 1024 bytes,
//   cut at a UTF-8 boundary), source = the cluster, severity (critical|warning|info, PagerDuty's
//   names too), timestamp (the first failure, RFC3339), component, group, class, custom_details
//   {facts, diagnosis, pods, changes, …}}, links [the runbook] when there is one, client
//   "podmedic" and client_url (server.externalUrl + "/#<id>") when that is set.
// - incident.diagnosed (a late diagnosis) → another `trigger` with the same dedup_key: PagerDuty
//   appends it to the open alert's log instead of opening a second one. Not sent once the
//   incident is resolved (a trigger after a resolve would open a new alert).
// - incident.resolved → `resolve` with the same dedup_key.
// - A storm digest → one `trigger` per incident, each with its own dedup_key (so each one later
//   resolves itself; PagerDuty's alert grouping folds them into one incident when the service
//   has it), with custom_details.storm saying how many started failing together.
// - Reminders are not sent: the alert stays triggered in PagerDuty, whose escalation policy does
//   the reminding.
// 202 is success; 400 (an event PagerDuty rejects) is permanent; 429 and 5xx are retried.
// The routing key is a secret: it is not in the rendered payload (so neither in the outbox under
// state.dir nor in the HA mirror); send() adds it to the body it posts, and removes it from any
// error text it hands back, so it reaches no log.
// Thread-safety: render() on the pipeline thread, send() on the worker thread; no shared state.
#include <optional>
#include <string_view>

#include "notifiers/notifier.h"

namespace podmedic::notifiers {

struct PagerDutySettings {
  std::string name;
  std::string routing_key;
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::string external_url;  // server.externalUrl: client_url; empty: no client_url
  Routing routing;
  std::chrono::milliseconds timeout{10'000};
};

class PagerDutyNotifier final : public Notifier {
 public:
  explicit PagerDutyNotifier(PagerDutySettings s) : s_(std::move(s)) {}
  const std::string& name() const override { return s_.name; }
  std::vector<Payload> render(const Rendering& r) const override;
  SendResult send(const Payload& p, const std::string& delivery_id,
                  const http::Cancel* cancel) override;
  Peer peer() const override { return Peer::kPagerDuty; }

  // PagerDuty's own bounds: summary and dedup_key lengths, and the whole event.
  static constexpr std::size_t kMaxSummary = 1024;
  static constexpr std::size_t kMaxDedupKey = 255;
  static constexpr std::size_t kMaxEvent = 512 * 1024;
  // Ours: pod names listed in custom_details (the count is always there).
  static constexpr std::size_t kMaxPods = 50;

 private:
  PagerDutySettings s_;
};

// PagerDuty's severity for an incident: its own when it is one of critical|warning|info, else
// the contract's default (OOMKilled critical, anything else warning).
std::string pagerduty_severity(const incidents::Incident& inc);

// The Events API's answer, read without trusting it: {"status": "success", "message": …,
// "dedup_key": …} on 202, {"status": "invalid event", "message": …, "errors": [ … ]} on 400.
// `detail` is the message and errors (bounded) for the log; `fault` is set when a body that
// should say something is not JSON or not of that shape.
struct PagerDutyReply {
  std::string status;
  std::string detail;
  std::optional<PeerFault> fault;
};
PagerDutyReply parse_pagerduty_reply(std::string_view body);

}  // namespace podmedic::notifiers
