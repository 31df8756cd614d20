#include "notifiers/config.h"

#include <algorithm>
#include <set>

#include "incidents/config.h"
#include "notifiers/alertmanager.h"
#include "notifiers/pagerduty.h"
#include "notifiers/slack.h"
#include "notifiers/teams.h"
#include "notifiers/webhook.h"

namespace podmedic::notifiers {

namespace {

// Every notifier's keys: its name first, its own keys, then its routing (namespaces, reasons).
config::Schema notifier_schema(std::string& name, config::Schema own,
                               std::vector<std::string>& namespaces,
                               std::vector<std::string>& reasons) {
  using namespace config;
  Schema out{str("name", &name, "notifier name, used in metrics and logs")};
  for (auto& k : own) out.push_back(std::move(k));
  out.push_back(strlist("namespaces", &namespaces, "route only these namespaces here; empty: all",
                        check_namespace));
  out.push_back(strlist("reasons", &reasons, "route only these reasons here; empty: all",
                        incidents::check_reason));
  return out;
}

config::Schema slack_schema(SlackConfig& s) {
  using namespace config;
  return notifier_schema(
      s.name,
      {str("webhookUrl", &s.webhook_url,
           "Slack incoming webhook URL (use ${SLACK_WEBHOOK_URL}); or botToken + channel"),
       str("botToken", &s.bot_token,
           "bot mode: xoxb- token for chat.postMessage; follow-ups thread under the alert"),
       str("channel", &s.channel, "bot mode: channel id (C…) or name"),
       str("apiUrl", &s.api_url, "bot mode: Slack Web API base URL")},
      s.namespaces, s.reasons);
}

config::Schema webhook_schema(WebhookConfig& w) {
  using namespace config;
  return notifier_schema(
      w.name,
      {str("url", &w.url, "endpoint receiving the JSON payload"),
       str("secret", &w.secret, "HMAC-SHA256 key for X-Podmedic-Signature; empty: unsigned")},
      w.namespaces, w.reasons);
}

config::Schema alertmanager_schema(AlertmanagerConfig& a) {
  using namespace config;
  return notifier_schema(
      a.name,
      {strlist("urls", &a.urls,
               "every Alertmanager replica; podmedic POSTs to <url>/api/v2/alerts"),
       str("url", &a.url, "shorthand for urls: [url]"),
       duration("resendInterval", &a.resend_interval,
                "re-post open incidents this often (endsAt = now + 4 x this)", false),
       strmap("labels", &a.labels, "extra static labels; cannot override podmedic's",
              [](const std::string& name, const std::string&) { return check_label_name(name); }),
       str("bearerToken", &a.bearer_token, "optional: Authorization: Bearer <token>"),
       section("basicAuth", "optional basic auth (instead of bearerToken)",
               [&a] {
                 return Schema{str("username", &a.basic_username, "user name"),
                               str("password", &a.basic_password, "password")};
               }),
       str("caFile", &a.ca_file, "PEM CA bundle for https URLs; empty: the system's")},
      a.namespaces, a.reasons);
}

config::Schema pagerduty_schema(PagerDutyConfig& p) {
  using namespace config;
  return notifier_schema(
      p.name,
      {str("routingKey", &p.routing_key,
           "Events API v2 integration key of the service (use ${PD_ROUTING_KEY})"),
       str("url", &p.url, "Events API v2 endpoint")},
      p.namespaces, p.reasons);
}

config::Schema teams_schema(TeamsConfig& t) {
  using namespace config;
  return notifier_schema(
      t.name,
      {str("webhookUrl", &t.webhook_url,
           "Teams Workflows \"When a Teams webhook request is received\" URL (use "
           "${TEAMS_WEBHOOK_URL})")},
      t.namespaces, t.reasons);
}

// A PagerDuty integration key: 32 letters and digits. Checked here because PagerDuty answers a
// wrong one with 400 for every event (a typo or an unset variable would page nobody).
bool is_routing_key(const std::string& k) {
  return k.size() == 32 && std::all_of(k.begin(), k.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
         });
}

}  // namespace

config::Schema notifiers_schema(NotifiersConfig& n) {
  using namespace config;
  return Schema{
      list_of<SlackConfig>("slack", &n.slack, "Slack incoming webhooks", slack_schema),
      list_of<WebhookConfig>("webhooks", &n.webhooks, "generic JSON webhooks", webhook_schema),
      list_of<AlertmanagerConfig>("alertmanager", &n.alertmanager,
                                  "Alertmanager (API v2): one alert per incident",
                                  alertmanager_schema),
      list_of<PagerDutyConfig>("pagerduty", &n.pagerduty, "PagerDuty Events API v2 services",
                               pagerduty_schema),
      list_of<TeamsConfig>("teams", &n.teams, "Microsoft Teams channels (Workflows webhooks)",
                           teams_schema)};
}

void validate(const NotifiersConfig& n, config::Ctx& ctx) {
  using config::is_http_url;
  std::set<std::string> names;
  auto check_name = [&](const std::string& path, const std::string& name) {
    if (name.empty())
      ctx.error(path + ".name", "required");
    else if (!names.insert(name).second)
      ctx.error(path + ".name", "duplicate notifier name \"" + name + "\"");
  };
  for (std::size_t i = 0; i < n.slack.size(); ++i) {
    std::string p = "notifiers.slack[" + std::to_string(i) + "]";
    const auto& s = n.slack[i];
    check_name(p, s.name);
    if (!s.bot_token.empty() || !s.channel.empty()) {
      if (!s.webhook_url.empty())
        ctx.error(p, "set either webhookUrl or botToken + channel, not both");
      if (s.bot_token.empty())
        ctx.error(p + ".botToken",
                  "required with channel (empty after expanding environment variables?)");
      if (s.channel.empty()) ctx.error(p + ".channel", "required with botToken");
      if (!is_http_url(s.api_url)) ctx.error(p + ".apiUrl", "must be an http(s) URL");
    } else if (s.webhook_url.empty()) {
      ctx.error(p + ".webhookUrl", "required (empty after expanding environment variables?)");
    } else if (!is_http_url(s.webhook_url)) {
      ctx.error(p + ".webhookUrl", "must be an http(s) URL");
    }
  }
  for (std::size_t i = 0; i < n.webhooks.size(); ++i) {
    std::string p = "notifiers.webhooks[" + std::to_string(i) + "]";
    const auto& w = n.webhooks[i];
    check_name(p, w.name);
    if (w.url.empty())
      ctx.error(p + ".url", "required (empty after expanding environment variables?)");
    else if (!is_http_url(w.url))
      ctx.error(p + ".url", "must be an http(s) URL");
  }
  for (std::size_t i = 0; i < n.alertmanager.size(); ++i) {
    std::string p = "notifiers.alertmanager[" + std::to_string(i) + "]";
    const auto& a = n.alertmanager[i];
    check_name(p, a.name);
    if (!a.url.empty() && !a.urls.empty()) ctx.error(p, "set either url or urls, not both");
    if (a.url.empty() && a.urls.empty())
      ctx.error(p + ".urls", "required (empty after expanding environment variables?)");
    for (std::size_t u = 0; u < a.urls.size(); ++u) {
      if (!is_http_url(a.urls[u]))
        ctx.error(p + ".urls[" + std::to_string(u) + "]", "must be an http(s) URL");
    }
    if (!a.url.empty() && !is_http_url(a.url)) ctx.error(p + ".url", "must be an http(s) URL");
    if (!a.bearer_token.empty() && !a.basic_username.empty())
      ctx.error(p, "set either bearerToken or basicAuth, not both");
    if (a.basic_username.empty() && !a.basic_password.empty())
      ctx.error(p + ".basicAuth.username", "required with a password");
  }
  for (std::size_t i = 0; i < n.pagerduty.size(); ++i) {
    std::string p = "notifiers.pagerduty[" + std::to_string(i) + "]";
    const auto& pd = n.pagerduty[i];
    check_name(p, pd.name);
    // The key itself never appears in a message: it is a secret.
    if (pd.routing_key.empty())
      ctx.error(p + ".routingKey", "required (empty after expanding environment variables?)");
    else if (!is_routing_key(pd.routing_key))
      ctx.error(p + ".routingKey",
                "must be a 32-character integration key (letters and digits; got " +
                    std::to_string(pd.routing_key.size()) + " characters)");
    if (!is_http_url(pd.url)) ctx.error(p + ".url", "must be an http(s) URL");
  }
  for (std::size_t i = 0; i < n.teams.size(); ++i) {
    std::string p = "notifiers.teams[" + std::to_string(i) + "]";
    const auto& t = n.teams[i];
    check_name(p, t.name);
    if (t.webhook_url.empty())
      ctx.error(p + ".webhookUrl", "required (empty after expanding environment variables?)");
    else if (!is_http_url(t.webhook_url))
      ctx.error(p + ".webhookUrl", "must be an http(s) URL");
  }
}

std::vector<std::unique_ptr<Notifier>> make_notifiers(const NotifiersConfig& n,
                                                      const std::string& state_dir,
                                                      const std::string& external_url,
                                                      const Clock& clock) {
  std::vector<std::unique_ptr<Notifier>> out;
  std::string base = external_url;  // links are base + "/#<id>"
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (const auto& s : n.slack) {
    SlackSettings ss;
    ss.name = s.name;
    ss.webhook_url = s.webhook_url;
    ss.routing = {s.namespaces, s.reasons};
    ss.bot_token = s.bot_token;
    ss.channel = s.channel;
    ss.api_url = s.api_url;
    ss.state_dir = state_dir;
    out.push_back(std::make_unique<SlackNotifier>(std::move(ss)));
  }
  for (const auto& w : n.webhooks) {
    out.push_back(std::make_unique<WebhookNotifier>(
        WebhookSettings{w.name, w.url, w.secret, {w.namespaces, w.reasons}}));
  }
  for (const auto& a : n.alertmanager) {
    AlertmanagerSettings as;
    as.name = a.name;
    as.urls = a.url.empty() ? a.urls : std::vector<std::string>{a.url};
    as.resend_interval = a.resend_interval;
    as.labels = a.labels;
    as.bearer_token = a.bearer_token;
    as.basic_username = a.basic_username;
    as.basic_password = a.basic_password;
    as.ca_file = a.ca_file;
    as.routing = {a.namespaces, a.reasons};
    as.external_url = base;
    out.push_back(std::make_unique<AlertmanagerNotifier>(std::move(as), clock));
  }
  for (const auto& p : n.pagerduty) {
    out.push_back(std::make_unique<PagerDutyNotifier>(
        PagerDutySettings{p.name, p.routing_key, p.url, base, {p.namespaces, p.reasons}}));
  }
  for (const auto& t : n.teams) {
    out.push_back(std::make_unique<TeamsNotifier>(
        TeamsSettings{t.name, t.webhook_url, base, {t.namespaces, t.reasons}}));
  }
  return out;
}

}  // namespace podmedic::notifiers
