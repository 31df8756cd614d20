#pragma once
// Notifier: one destination (a Slack webhook, a generic webhook). render() turns an incident
// event into payloads on the pipeline thread (cheap, no I/O); send() delivers one payload and
// runs on that notifier's worker thread (blocking). Outcomes are values: OK, RETRY (429, 5xx,
// timeouts; maybe with Retry-After) or PERMANENT (other 4xx, with the server's error string).
// Whatever the receiver answered that we could not use (a reset, a garbage body, an absurd
// Retry-After) comes back in SendResult::faults; the dispatcher counts it under the notifier's
// peer(). A 2xx is delivered whatever its body: re-posting would duplicate the message.
// send() is abortable: the dispatcher's stop() cancels the token it passes, and the call returns
// kCancelled within http::kCancelLatency (the message stays undelivered, and no attempt counts).
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/http.h"
#include "core/peer_errors.h"
#include "incidents/alert_diagnosis.h"
#include "incidents/tracker.h"

namespace podmedic::notifiers {

struct Rendering {
  incidents::EventType type;
  std::vector<const incidents::Incident*> incidents;
  std::function<std::string(const incidents::Incident&)> facts;  // rules-based summary
  // A periodic re-post of the open incidents' current state (`type` is then kReminder), only for
  // notifiers with a resend_interval().
  bool resend = false;
};

struct Payload {
  std::string event;   // incident.opened | incident.resolved | ... (X-Podmedic-Event)
  std::string body;    // the exact bytes to POST
  std::string thread;  // the incident id, for notifiers that thread follow-ups (Slack bot)
  bool root = false;   // the incident's first message: follow-ups thread under it
  // Coalescing key (the incident id; empty: none): a notifier that delivers state rather than
  // messages (Alertmanager) keeps only the latest undelivered payload per key, so an outage
  // never piles up re-posts and an older state never follows a newer one.
  std::string key;
};

// kCancelled: the transfer was aborted by the caller's token (shutting down); not the receiver's
// doing, whatever happened on the wire.
enum class Outcome { kOk, kRetry, kPermanent, kCancelled };
struct SendResult {
  Outcome outcome = Outcome::kRetry;
  int status = 0;
  std::chrono::seconds retry_after{0};
  std::string detail;             // the server's error string, or the transport error
  std::vector<PeerFault> faults;  // each unusable part of the answer, counted once
};

// Which incidents a notifier takes: empty lists accept everything.
struct Routing {
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
  bool accepts(const incidents::Incident& i) const;
  bool accepts_namespace(const std::string& ns) const;  // for alerts, which have no reason
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual const std::string& name() const = 0;
  virtual std::vector<Payload> render(const Rendering& r) const = 0;
  // An Alertmanager alert podmedic diagnosed (alert.diagnosed), for the notifiers that take it
  // (Slack, webhooks; Teams may opt in). The default takes none: Alertmanager and PagerDuty must
  // never get it (no loop, no double page).
  virtual std::vector<Payload> render_alert(const incidents::AlertDiagnosis&) const { return {}; }
  // `cancel` (may be null) aborts the transfer from another thread.
  virtual SendResult send(const Payload& p, const std::string& delivery_id,
                          const http::Cancel* cancel) = 0;
  // Minimum spacing between two posts (Slack incoming webhooks: about 1 per second).
  virtual std::chrono::milliseconds min_interval() const { return std::chrono::milliseconds(0); }
  // Which peer label its receiver's errors are counted under.
  virtual Peer peer() const { return Peer::kWebhook; }
  // Every this often the dispatcher renders the open, announced incidents again with
  // Rendering::resend (Alertmanager forgets alerts that are not re-posted); 0: never.
  virtual std::chrono::milliseconds resend_interval() const { return std::chrono::milliseconds(0); }
  // A state file of its own (the Slack bot's thread timestamps), if any: the dispatcher counts
  // its write errors and reports its health. save_state() writes it again when an earlier write
  // failed; true when nothing is left unsaved. Both from the worker thread.
  virtual incidents::StateFile* state_file() { return nullptr; }
  virtual bool save_state() { return true; }
};

// Shared classification of an HTTP outcome: a cancelled transfer CANCELLED (no fault); 2xx OK; 429,
// 5xx and transport errors RETRY; other statuses PERMANENT. Faults: a transport error or timeout, a
// 5xx or unexpected 4xx status, and a Retry-After that was present but unusable (then it is
// ignored, as if absent).
SendResult classify(const http::PostResult& r);

}  // namespace podmedic::notifiers
