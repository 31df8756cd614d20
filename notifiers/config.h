#pragma once
// The `notifiers` section of the configuration: Slack (webhook or bot) and generic webhooks,
// each with its routing by namespace and reason.
#include <memory>
#include <string>
#include <vector>

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

struct NotifiersConfig {
  std::vector<SlackConfig> slack;
  std::vector<WebhookConfig> webhooks;
};

config::Schema notifiers_schema(NotifiersConfig& n);
void validate(const NotifiersConfig& n, config::Ctx& ctx);

// The Slack and webhook notifiers of the section, in its order; their own state (Slack threads)
// under `state_dir`.
std::vector<std::unique_ptr<Notifier>> make_notifiers(const NotifiersConfig& n,
                                                      const std::string& state_dir);

}  // namespace podmedic::notifiers
