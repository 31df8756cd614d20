#pragma once
// Alertmanager: one alert per incident, POSTed to <url>/api/v2/alerts of every listed replica,
// with the labels and annotations of PRODUCT.md ("Alertmanager"). It delivers state, not
// messages: every payload carries the incident id as its coalescing key (Payload::key), so the
// dispatcher keeps only the latest state per incident (an outage never piles up re-posts, and a
// "firing" never follows the "resolved" queued after it). While the incident is open the
// dispatcher renders it again every resend_interval (Rendering::resend); a firing alert's
// endsAt is stamped at send time, now + 4 × resend_interval (as Prometheus does), so one that
// waited in the outbox through an outage is still current when it arrives. A resolved alert
// carries endsAt = the resolve time.
// Replicas: one post to each, in order; delivered (kOk) when at least one replica accepted it,
// like Prometheus: a replica that missed a firing post gets the next re-post, one that missed the
// resolution times the alert out at its endsAt. When none accepted: RETRY if any failure was
// retryable (429, 5xx, transport), else PERMANENT (400: Alertmanager rejected the alert).
// send() runs on the dispatcher's worker thread; render() on the pipeline thread. Immutable
// after construction; thread-safe.
#include <map>

#include "core/clock.h"
#include "notifiers/notifier.h"

namespace podmedic::notifiers {

struct AlertmanagerSettings {
  std::string name;
  std::vector<std::string> urls;  // base URLs; /api/v2/alerts is appended
  std::chrono::milliseconds resend_interval{60'000};
  std::map<std::string, std::string> labels;  // static, validated; ours win
  std::string bearer_token;
  std::string basic_username;  // basic auth when non-empty
  std::string basic_password;
  std::string ca_file;
  Routing routing;
  std::string external_url;  // server.externalUrl: generatorURL = external_url + "/#" + id
  std::chrono::milliseconds timeout{10'000};
};

class AlertmanagerNotifier final : public Notifier {
 public:
  AlertmanagerNotifier(AlertmanagerSettings s, const Clock& clock = system_clock());
  const std::string& name() const override { return s_.name; }
  std::vector<Payload> render(const Rendering& r) const override;
  SendResult send(const Payload& p, const std::string& delivery_id,
                  const http::Cancel* cancel) override;
  Peer peer() const override { return Peer::kAlertmanager; }
  std::chrono::milliseconds resend_interval() const override { return s_.resend_interval; }

  // Payload::event of the two states.
  static constexpr const char* kFiring = "alert.firing";
  static constexpr const char* kResolved = "alert.resolved";
  // Annotations longer than this are cut (with a marker): Alertmanager keeps every alert in
  // memory and passes annotations on to every receiver.
  static constexpr std::size_t kMaxAnnotation = 8192;

 private:
  AlertmanagerSettings s_;
  const Clock& clock_;
  std::vector<std::string> headers_;
};

// The labels podmedic sets on its alerts (static labels may not use these names).
const std::vector<std::string>& alertmanager_own_labels();
// Prometheus' label-name rule, [a-zA-Z_][a-zA-Z0-9_]*, without the reserved "__" prefix:
// "" when `name` is usable as a static label, else why not.
std::string check_label_name(const std::string& name);
// The alertname of a reason: PodCrashLooping, PodImagePullBackOff, PodOOMKilled, Pod<Reason>.
std::string alertname(const std::string& reason);
// One alert of the Alertmanager API v2 (postableAlert) for `inc`: labels, annotations, startsAt,
// generatorURL (with an external URL), and endsAt only when resolved (send() stamps a firing
// one's).
nlohmann::json alertmanager_alert(const incidents::Incident& inc, const std::string& facts,
                                  const AlertmanagerSettings& s);

}  // namespace podmedic::notifiers
