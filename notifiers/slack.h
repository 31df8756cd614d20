#pragma once
// Slack incoming webhook: a `text` fallback plus Block Kit (header, fields, facts, next kubectl
// commands, the container's last message, context with the incident id), within Slack's limits
// (50 blocks, 3000 characters per section, 150 per header, text kept under 4000), with & < >
// escaped in everything that came from the cluster so "<!channel>" in a log cannot ping anyone.
// At most one post per second per webhook.
// Bot mode (bot_token + channel): chat.postMessage, the alert's `ts` kept per incident (and
// persisted under state.dir) so the diagnosis, reminders and the resolution thread under it.
// A thread file that does not load (cut, or of the wrong types) is set aside and the valid
// entries are kept. A 2xx reply that is unreadable counts as delivered, without a thread. A thread
// file write that fails is retried (save_state()) until it succeeds.
#include <map>
#include <mutex>

#include "incidents/state_file.h"
#include "notifiers/notifier.h"

namespace podmedic::notifiers {

struct SlackSettings {
  std::string name;
  std::string webhook_url;
  Routing routing;
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds min_interval{1000};
  // Bot mode.
  std::string bot_token;
  std::string channel;
  std::string api_url = "https://slack.com/api";
  std::string state_dir;  // where the thread timestamps are kept; empty: memory only
};

class SlackNotifier final : public Notifier {
 public:
  explicit SlackNotifier(SlackSettings s);
  const std::string& name() const override { return s_.name; }
  std::vector<Payload> render(const Rendering& r) const override;
  std::vector<Payload> render_alert(const incidents::AlertDiagnosis& a) const override;
  SendResult send(const Payload& p, const std::string& delivery_id,
                  const http::Cancel* cancel) override;
  std::chrono::milliseconds min_interval() const override { return s_.min_interval; }
  Peer peer() const override { return Peer::kSlack; }
  incidents::StateFile* state_file() override { return threads_file_.get(); }
  bool save_state() override;
  // The thread timestamps known (for tests): incident id → ts.
  std::map<std::string, std::string> threads() const;

  // The most of a chat.postMessage reply we read (it echoes the whole message back).
  static constexpr std::size_t kMaxReply = 1u << 20;
  // The largest thread file we load.
  static constexpr std::size_t kMaxThreadsFile = 16u << 20;
  static constexpr std::size_t kMaxThreads = 5000;

 private:
  SendResult post_message(const Payload& p, const http::Cancel* cancel);
  void load_threads();
  bool save_threads();  // caller holds mu_; false when the write failed (threads_dirty_ then)
  SlackSettings s_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> threads_;  // incident id → the alert's ts (exact string)
  std::vector<std::string> thread_order_;       // oldest first, bounded
  std::unique_ptr<incidents::StateFile> threads_file_;
  bool threads_dirty_ = false;  // a write of threads_file_ failed: retried by save_state()
};

// Slack mrkdwn escaping: & first, then < and >; nothing else.
std::string slack_escape(std::string_view s);
// The next kubectl commands a human would run for this incident.
std::vector<std::string> next_commands(const incidents::Incident& inc);

}  // namespace podmedic::notifiers
