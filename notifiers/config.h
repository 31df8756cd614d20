#pragma once
// The `notifiers` section of the configuration: Slack (webhook or bot) and generic webhooks,
// each with its routing by namespace and reason.
#include <string>
#include <vector>

#include "core/config_schema.h"

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

}  // namespace podmedic::notifiers
