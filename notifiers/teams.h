#pragma once
// Microsoft Teams through a Workflows "When a Teams webhook request is received" trigger (the old
// Office 365 connectors are retired): POST {"type":"message","attachments":[{"contentType":
// "application/vnd.microsoft.card.adaptive","content":<AdaptiveCard 1.4>}]}.
// The card: a headline coloured by severity, a FactSet (cluster, namespace, workload, container,
// pods, restarts, exit code, severity), the likely cause (the LLM's, else the rules-based facts),
// what the rollout changed, the next kubectl commands, the container's last message and the key
// log lines and events (one monospace TextBlock per line), the incident id; a Runbook button
// when the incident has a runbook URL and an "Open in podmedic" one with server.externalUrl.
// Every TextBlock wraps. Text from the cluster (and the LLM) is escaped with teams_escape() so a
// log line cannot bold, link, list or mention anyone (<at>…</at>) or call a DATE()/TIME()
// function. The whole body stays ≤ kMaxBody: Workflows answers 202 and fails later for larger
// ones, so the limit cannot be learned from the answer; the renderer measures the serialized
// body and cuts the key lines first, then the diagnosis, the last message and the facts.
// Events: opened and reminders (the full card), diagnosed (the diagnosis card), resolved, and a
// storm digest (one card listing the workloads). 200 and 202 are success; 429/5xx retried.
// alert.diagnosed (Alertmanager alerts diagnosed by podmedic, PRODUCT.md "Alertmanager"): a card
// with the alert, its pod, the diagnosis and the facts (render_alert).
// Thread-safety: render() on the pipeline thread, send() on the worker thread; no shared state.
#include <string_view>

#include "notifiers/notifier.h"

namespace podmedic::notifiers {

struct TeamsSettings {
  std::string name;
  std::string webhook_url;   // a secret (its sig= signs the trigger): never logged
  std::string external_url;  // server.externalUrl: the "Open in podmedic" button; empty: none
  Routing routing;
  std::chrono::milliseconds timeout{10'000};
};

class TeamsNotifier final : public Notifier {
 public:
  explicit TeamsNotifier(TeamsSettings s) : s_(std::move(s)) {}
  const std::string& name() const override { return s_.name; }
  std::vector<Payload> render(const Rendering& r) const override;
  std::vector<Payload> render_alert(const incidents::AlertDiagnosis& a) const override;
  SendResult send(const Payload& p, const std::string& delivery_id,
                  const http::Cancel* cancel) override;
  Peer peer() const override { return Peer::kTeams; }

  // Teams' message limit is 28 KB; 28,000 bytes is within it under either reading of "KB".
  static constexpr std::size_t kMaxBody = 28'000;

 private:
  TeamsSettings s_;
};

// Adaptive Card markdown escaping for text that did not come from us: a backslash before every
// character the card's markdown subset gives a meaning (* _ [ ] ( ) ` ~ # | ! \ < > & { }), and
// before a list marker at the start of a line ("- ", "+ ", "1. ", "1) "); line ends become
// paragraph breaks ("\n\n"), as a single "\n" is not a line break in card markdown.
std::string teams_escape(std::string_view s);

}  // namespace podmedic::notifiers
