#pragma once
// The `notifiers` section of the configuration: Slack (webhook or bot), generic webhooks and
// Alertmanager, each with its routing by namespace and reason.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config_schema.h"
#include "notifiers/notifier.h"

namespace podmedic::notifiers {

struct SlackConfig {
  std::string name;
  std::string webhook_url;
  std::string bot_token;  // bot mode (chat.postMessage) instead of webhook_url
  std::string channel;
  std::string api_url = "https://slack.com/api";
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
};

struct WebhookConfig {
  std::string name;
  std::string url;
  std::string secret;
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
};

struct AlertmanagerConfig {
  std::string name;
  std::vector<std::string> urls;
  std::string url;  // shorthand for urls: [url]
  std::chrono::milliseconds resend_interval{60'000};
  std::map<std::string, std::string> labels;
  std::string bearer_token;
  std::string basic_username;
  std::string basic_password;
  std::string ca_file;
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
};

struct NotifiersConfig {
  std::vector<SlackConfig> slack;
  std::vector<WebhookConfig> webhooks;
  std::vector<AlertmanagerConfig> alertmanager;
};

config::Schema notifiers_schema(NotifiersConfig& n);
void validate(const NotifiersConfig& n, config::Ctx& ctx);

// The Slack, webhook and Alertmanager notifiers of the section, in its order; their own state
// (Slack threads) under `state_dir`; `external_url` (server.externalUrl, may be empty) for the
// links in alerts; `clock` for Alertmanager's endsAt.
std::vector<std::unique_ptr<Notifier>> make_notifiers(const NotifiersConfig& n,
                                                      const std::string& state_dir,
                                                      const std::string& external_url = {},
                                                      const Clock& clock = system_clock());

}  // namespace podmedic::notifiers
