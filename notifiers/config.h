#pragma once
// The `notifiers` section of the configuration: Slack (webhook or bot), generic webhooks,
// Alertmanager, PagerDuty (Events API v2) and Microsoft Teams (Workflows), each with its routing
// by namespace and reason.
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

struct PagerDutyConfig {
  std::string name;
  std::string routing_key;  // a secret: never in a log, an error or a file
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
};

struct TeamsConfig {
  std::string name;
  std::string webhook_url;  // a secret (signed trigger URL)
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
};

struct NotifiersConfig {
  std::vector<SlackConfig> slack;
  std::vector<WebhookConfig> webhooks;
  std::vector<AlertmanagerConfig> alertmanager;
  std::vector<PagerDutyConfig> pagerduty;
  std::vector<TeamsConfig> teams;
};

config::Schema notifiers_schema(NotifiersConfig& n);
void validate(const NotifiersConfig& n, config::Ctx& ctx);

// The notifiers of the section, in its order (Slack, webhooks, Alertmanager, PagerDuty, Teams);
// their own state (Slack threads) under `state_dir`; links back to podmedic from `external_url`
// (server.externalUrl; empty: none); `clock` for Alertmanager's endsAt.
std::vector<std::unique_ptr<Notifier>> make_notifiers(const NotifiersConfig& n,
                                                      const std::string& state_dir,
                                                      const std::string& external_url = {},
                                                      const Clock& clock = system_clock());

}  // namespace podmedic::notifiers
