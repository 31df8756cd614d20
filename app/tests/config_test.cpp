#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "app/config.h"
#include "incidents/config.h"
#include "notifiers/config.h"

using namespace podmedic::app;
using namespace std::chrono_literals;

namespace {
bool has_error(const ConfigResult& r, const std::string& needle) {
  for (const auto& e : r.errors) {
    if (e.find(needle) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("the PRODUCT.md example config parses with env expansion") {
  setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x", 1);
  setenv("WEBHOOK_SECRET", "s3cret", 1);
  unsetenv("PODMEDIC_TOKEN");
  auto r = parse_config(R"(
cluster:
  name: prod-eu-1
  kubeconfig: ""
  context: ""
watch:
  namespaces: []
  excludeNamespaces: [kube-system]
  labelSelector: ""
detect:
  reasons: [CrashLoopBackOff, ImagePullBackOff, OOMKilled]
  resolveAfter: 5m
  renotifyAfter: 4h
diagnosis:
  enabled: true
  waitBeforeNotify: 10s
  logs:
    fetchBytes: 2MiB
    maxBytes: 8000
ollama:
  url: http://127.0.0.1:11434
  model: mistral
  timeout: 120s
notifiers:
  slack:
    - name: ops
      webhookUrl: ${SLACK_WEBHOOK_URL}
      namespaces: []
  webhooks:
    - name: pager
      url: https://example.invalid/hook
      secret: ${WEBHOOK_SECRET}
server:
  listen: 0.0.0.0:8080
  token: ${PODMEDIC_TOKEN:-}
state:
  dir: /var/lib/podmedic
)",
                        "podmedic.yaml");
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.errors.empty());
  const auto& c = r.config;
  CHECK(c.cluster.name == "prod-eu-1");
  CHECK(c.watch.exclude_namespaces == std::vector<std::string>{"kube-system"});
  CHECK(c.detect.resolve_after == 5min);
  CHECK(c.detect.renotify_after == 4h);
  CHECK(c.diagnosis.fetch_bytes == 2u * 1024 * 1024);
  CHECK(c.diagnosis.max_bytes == 8000);
  CHECK(c.ollama.timeout == 120s);
  REQUIRE(c.notifiers.slack.size() == 1);
  CHECK(c.notifiers.slack[0].webhook_url == "https://hooks.slack.com/services/T/B/x");
  CHECK(c.notifiers.webhooks[0].secret == "s3cret");
  CHECK(c.server.token.empty());
}

TEST_CASE("an empty config is valid and uses the defaults") {
  auto r = parse_config("", "empty.yaml");
  REQUIRE(r.errors.empty());
  CHECK(r.config.detect.rules.reasons.size() == 3);
  CHECK(r.config.diagnosis.wait_before_notify == 10s);
  CHECK(r.config.server.listen == "0.0.0.0:8080");
  CHECK(r.config.detect.severity ==
        std::map<std::string, std::string>{{"CrashLoopBackOff", "warning"},
                                           {"ImagePullBackOff", "warning"},
                                           {"OOMKilled", "critical"}});
  CHECK(r.config.detect.runbooks.empty());
}

TEST_CASE("detect.severity and detect.runbooks: entries override defaults, bad ones are named") {
  auto r = parse_config(R"(
detect:
  severity: {CrashLoopBackOff: critical}
  runbooks: {OOMKilled: "https://runbooks.example/oom?ns={namespace}&w={workload}"}
)",
                        "ok.yaml");
  REQUIRE(r.errors.empty());
  CHECK(r.config.detect.severity.at("CrashLoopBackOff") == "critical");
  CHECK(r.config.detect.severity.at("OOMKilled") == "critical");
  CHECK(r.config.detect.severity.at("ImagePullBackOff") == "warning");
  auto s = podmedic::incidents::tracker_settings(r.config.detect, "c");
  CHECK(s.runbooks.at("OOMKilled") == "https://runbooks.example/oom?ns={namespace}&w={workload}");

  auto bad = parse_config(R"(
detect:
  severity: {CrashLoopBackOff: page, Exploded: info}
  runbooks: {OOMKilled: "https://rb/{pod}", ImagePullBackOff: "rb.example"}
)",
                          "bad.yaml");
  CHECK(has_error(bad,
                  "detect.severity.CrashLoopBackOff: severity must be critical, warning or "
                  "info, got \"page\""));
  CHECK(has_error(bad, "detect.severity.Exploded: unknown reason \"Exploded\""));
  CHECK(has_error(bad, "detect.runbooks.OOMKilled: unknown placeholder {pod}"));
  CHECK(has_error(bad, "detect.runbooks.ImagePullBackOff: a runbook must be an http"));
  CHECK(bad.errors.size() == 4);
}

TEST_CASE("notifiers.alertmanager: url shorthand, labels, auth; bad entries are named") {
  auto r = parse_config(R"(
notifiers:
  alertmanager:
    - name: am
      url: http://am:9093
      resendInterval: 30s
      labels: {team: platform}
      basicAuth: {username: u, password: p}
)",
                        "ok.yaml");
  REQUIRE(r.errors.empty());
  REQUIRE(r.config.notifiers.alertmanager.size() == 1);
  const auto& am = r.config.notifiers.alertmanager[0];
  CHECK(am.url == "http://am:9093");
  CHECK(am.resend_interval == std::chrono::seconds(30));
  CHECK(am.labels.at("team") == "platform");
  CHECK(am.basic_username == "u");
  CHECK(podmedic::notifiers::make_notifiers(r.config.notifiers, "/tmp").size() == 1);

  auto bad = parse_config(R"(
notifiers:
  alertmanager:
    - name: am
      url: http://am:9093
      urls: [ftp://am]
      resendInterval: 0s
      labels: {severity: page, bad-name: x}
      bearerToken: t
      basicAuth: {username: u, password: p}
    - url: http://am2:9093
)",
                          "bad.yaml");
  CHECK(has_error(bad, "notifiers.alertmanager[0]: set either url or urls, not both"));
  CHECK(has_error(bad, "notifiers.alertmanager[0].urls[0]: must be an http(s) URL"));
  CHECK(has_error(bad, "notifiers.alertmanager[0].resendInterval: must be greater than 0"));
  CHECK(
      has_error(bad, "notifiers.alertmanager[0].labels.severity: \"severity\" is set by podmedic"));
  CHECK(has_error(bad, "notifiers.alertmanager[0].labels.bad-name: \"bad-name\" is not a valid"));
  CHECK(has_error(bad, "notifiers.alertmanager[0]: set either bearerToken or basicAuth"));
  CHECK(has_error(bad, "notifiers.alertmanager[1].name: required"));
  CHECK(bad.errors.size() == 7);
}

TEST_CASE("every problem is reported at once with its path") {
  unsetenv("NOPE_NOT_SET");
  auto r = parse_config(R"(
cluster:
  nmae: typo
detect:
  reasons: [CrashLoopBackOff, Exploded]
  resolveAfter: 5 minutes
  renotifyAfter: 0
diagnosis:
  logs:
    fetchBytes: lots
notifiers:
  slack:
    - name: ops
      webhookUrl: ${NOPE_NOT_SET}
    - name: ops
      webhookUrl: ftp://x
server:
  listen: nowhere
watch:
  namespaces: [Bad_Name]
ollama:
  url: localhost:11434
)",
                        "bad.yaml");
  CHECK(has_error(r, "cluster.nmae: unknown key"));
  CHECK(has_error(r, "detect.reasons[1]: unknown reason \"Exploded\""));
  CHECK(has_error(r, "detect.resolveAfter: invalid duration"));
  CHECK(has_error(r, "diagnosis.logs.fetchBytes: invalid size"));
  CHECK(has_error(r, "notifiers.slack[0].webhookUrl: required"));
  CHECK(has_error(r, "notifiers.slack[1].name: duplicate notifier name"));
  CHECK(has_error(r, "notifiers.slack[1].webhookUrl: must be an http(s) URL"));
  CHECK(has_error(r, "server.listen: expected host:port"));
  CHECK(has_error(r, "watch.namespaces[0]: \"Bad_Name\" is not a valid namespace name"));
  CHECK(has_error(r, "ollama.url: must start with http://"));
  CHECK_FALSE(has_error(r, "renotifyAfter"));  // 0 is allowed: never remind
  CHECK(r.errors.size() == 10);
}

TEST_CASE("invalid YAML names the file line and column") {
  auto r = parse_config("cluster:\n  name: [unclosed\n", "broken.yaml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].rfind("broken.yaml:", 0) == 0);
  CHECK(r.errors[0].find("invalid YAML") != std::string::npos);
}

TEST_CASE("wrong shapes are errors not crashes") {
  auto r =
      parse_config("cluster: [1, 2]\nwatch:\n  namespaces: shop\nnotifiers:\n  slack: {name: x}\n",
                   "shape.yaml");
  CHECK(has_error(r, "cluster: expected a mapping"));
  CHECK(has_error(r, "watch.namespaces: expected a list"));
  CHECK(has_error(r, "notifiers.slack: expected a list"));
}

TEST_CASE("overflowing durations, sizes, integers and ports are errors naming the key") {
  auto r = parse_config(
      "detect:\n  resolveAfter: 99999999999999999999d\n"
      "diagnosis:\n  concurrency: 99999999999999999999999\n"
      "  logs:\n    fetchBytes: 17179869185GiB\n"
      "server:\n  listen: 0.0.0.0:12345678901234567890123\n",
      "huge.yaml");
  CHECK(has_error(r, "detect.resolveAfter: duration \"99999999999999999999d\" is too large"));
  CHECK(has_error(r, "diagnosis.concurrency: must be between"));
  CHECK(has_error(r, "diagnosis.logs.fetchBytes: size \"17179869185GiB\" is too large"));
  CHECK(has_error(r, "server.listen: expected host:port"));
  auto bad = parse_config("diagnosis:\n  concurrency: 12abc\nserver:\n  listen: 127.0.0.1:abc\n",
                          "bad.yaml");
  CHECK(has_error(bad, "diagnosis.concurrency: expected an integer"));
  CHECK(has_error(bad, "server.listen: expected host:port"));
}

TEST_CASE("env expansion with defaults") {
  setenv("PM_SET", "value", 1);
  unsetenv("PM_UNSET");
  std::vector<std::string> unset;
  CHECK(expand_env("a-${PM_SET}-b", &unset) == "a-value-b");
  CHECK(expand_env("${PM_UNSET:-fallback}", &unset) == "fallback");
  CHECK(expand_env("${PM_UNSET}", &unset).empty());
  CHECK(unset == std::vector<std::string>{"PM_UNSET"});
  CHECK(expand_env("no $vars {here}") == "no $vars {here}");
}

TEST_CASE("the reference documents every section") {
  auto ref = config_reference();
  for (const char* k :
       {"cluster:", "kubeconfig:", "excludeNamespaces:", "resolveAfter: 5m",
        "fetchBytes:", "webhookUrl:", "listen: 0.0.0.0:8080", "dir: /var/lib/podmedic"}) {
    INFO(k);
    CHECK(ref.find(k) != std::string::npos);
  }
  // Lists show their real defaults (detect.reasons used to read [] though three are detected).
  CHECK(ref.find("  reasons: [CrashLoopBackOff, ImagePullBackOff, OOMKilled]  # list of strings") !=
        std::string::npos);
  CHECK(ref.find("  ignoreContainers: []  # list of strings") != std::string::npos);
  // The reference is itself a valid configuration (notifier lists shown as commented entries).
  auto again = parse_config(ref, "reference.yaml");
  std::string errors;
  for (const auto& e : again.errors) errors += e + "\n";
  INFO(errors);
  CHECK(again.errors.empty());
  CHECK(ref.find("  slack: []  # Slack incoming webhooks; a list of entries like:\n"
                 "  #   - name: \"\"  # string: notifier name") != std::string::npos);
}

TEST_CASE("the README configuration reference is valid against the schema") {
  // The documented block must not drift from the code: unknown or misspelled keys fail here.
  const char* dir = std::getenv("PODMEDIC_SOURCE_DIR");
  std::ifstream f(std::string(dir ? dir : ".") + "/README.md");
  REQUIRE(f);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string readme = ss.str();
  auto section = readme.find("\n## Configuration");
  REQUIRE(section != std::string::npos);
  auto begin = readme.find("```yaml\n", section);
  REQUIRE(begin != std::string::npos);
  begin += 8;
  auto end = readme.find("```", begin);
  REQUIRE(end != std::string::npos);
  setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x", 1);
  setenv("SLACK_BOT_TOKEN", "xoxb-1", 1);
  setenv("WEBHOOK_SECRET", "s", 1);
  auto r = parse_config(readme.substr(begin, end - begin), "README.md");
  std::string errors;
  for (const auto& e : r.errors) errors += e + "\n";
  INFO(errors);
  CHECK(r.errors.empty());
  CHECK(r.config.notifiers.slack.size() == 2);
  CHECK(r.config.ollama.num_predict == 512);
  // And every top-level section of the reference appears in the README block.
  for (const char* key : {"cluster:", "watch:", "detect:", "diagnosis:", "ollama:", "notifiers:",
                          "server:", "state:", "log:"}) {
    CHECK(readme.find(std::string("\n") + key, begin - 1) < end);
  }
}

TEST_CASE("server.maxConnections and server.idleTimeout: defaults and validation") {
  auto d = parse_config("", "t.yaml");
  REQUIRE(d.errors.empty());
  CHECK(d.config.server.max_connections == 256);
  CHECK(d.config.server.idle_timeout == std::chrono::seconds(5));
  auto r = parse_config("server:\n  maxConnections: 32\n  idleTimeout: 2s\n", "t.yaml");
  REQUIRE(r.errors.empty());
  CHECK(r.config.server.max_connections == 32);
  CHECK(r.config.server.idle_timeout == std::chrono::seconds(2));
  for (const char* bad : {"maxConnections: 0", "maxConnections: 70000", "maxConnections: many",
                          "idleTimeout: 0s", "idleTimeout: 11m", "idleTimeout: soon"}) {
    INFO(bad);
    auto e = parse_config(std::string("server:\n  ") + bad + "\n", "t.yaml");
    REQUIRE(e.errors.size() == 1);
    CHECK(e.errors[0].rfind(
              std::string("server.") + std::string(bad).substr(0, std::string(bad).find(':')), 0) ==
          0);
  }
  auto ref = config_reference();
  CHECK(ref.find("maxConnections: 256") != std::string::npos);
  CHECK(ref.find("idleTimeout: 5s") != std::string::npos);
}

TEST_CASE("listening beyond loopback and the watch scope") {
  for (const char* beyond : {"0.0.0.0:8080", ":8080", "[::]:8080", "10.0.0.5:8080",
                             "podmedic.svc:8080", "127.0.0.1.evil:8080"}) {
    INFO(beyond);
    CHECK(listens_beyond_loopback(beyond));
  }
  for (const char* local : {"127.0.0.1:8080", "127.1.2.3:0", "[::1]:8080", "localhost:8080"}) {
    INFO(local);
    CHECK_FALSE(listens_beyond_loopback(local));
  }
  podmedic::watcher::WatchSettings all;
  CHECK(in_watch_scope(all, "anything"));
  podmedic::watcher::WatchSettings some;
  some.namespaces = {"shop", "payments"};
  CHECK(in_watch_scope(some, "shop"));
  CHECK_FALSE(in_watch_scope(some, "kube-system"));
  podmedic::watcher::WatchSettings excl;
  excl.exclude_namespaces = {"kube-system"};
  CHECK(in_watch_scope(excl, "shop"));
  CHECK_FALSE(in_watch_scope(excl, "kube-system"));
}

TEST_CASE(
    "notifiers.pagerduty and notifiers.teams: parsed, validated, the routing key never echoed") {
  setenv("PD_ROUTING_KEY", "0123456789abcdef0123456789ABCDEF", 1);
  setenv("TEAMS_WEBHOOK_URL", "https://prod.westeurope.logic.azure.com/workflows/x?sig=abc", 1);
  auto r = parse_config(R"(
notifiers:
  pagerduty:
    - name: pd
      routingKey: ${PD_ROUTING_KEY}
      namespaces: [shop]
      reasons: [OOMKilled]
  teams:
    - name: oncall
      webhookUrl: ${TEAMS_WEBHOOK_URL}
server:
  externalUrl: https://podmedic.example.com
)",
                        "t.yaml");
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.errors.empty());
  REQUIRE(r.config.notifiers.pagerduty.size() == 1);
  const auto& pd = r.config.notifiers.pagerduty[0];
  CHECK(pd.routing_key == "0123456789abcdef0123456789ABCDEF");
  CHECK(pd.url == "https://events.pagerduty.com/v2/enqueue");
  CHECK(pd.namespaces == std::vector<std::string>{"shop"});
  CHECK(pd.reasons == std::vector<std::string>{"OOMKilled"});
  REQUIRE(r.config.notifiers.teams.size() == 1);
  CHECK(r.config.notifiers.teams[0].webhook_url ==
        "https://prod.westeurope.logic.azure.com/workflows/x?sig=abc");
  CHECK(r.config.server.external_url == "https://podmedic.example.com");

  unsetenv("NOPE_PD_KEY");
  auto bad = parse_config(R"(
notifiers:
  pagerduty:
    - name: pd
      routingKey: ${NOPE_PD_KEY}
    - name: pd2
      routingKey: s3cr3t-but-too-short
      url: events.pagerduty.com
      reasons: [Exploded]
    - name: pd
      routingKey: 0123456789abcdef0123456789ABCDEF
      severity: high
  teams:
    - name: oncall
    - name: t2
      webhookUrl: ftp://x
server:
  externalUrl: podmedic.example.com
)",
                          "bad.yaml");
  CHECK(has_error(bad, "notifiers.pagerduty[0].routingKey: required"));
  CHECK(
      has_error(bad, "notifiers.pagerduty[1].routingKey: must be a 32-character integration key"));
  CHECK(has_error(bad, "notifiers.pagerduty[1].url: must be an http(s) URL"));
  CHECK(has_error(bad, "notifiers.pagerduty[1].reasons[0]"));
  CHECK(has_error(bad, "notifiers.pagerduty[2].name: duplicate notifier name"));
  CHECK(has_error(bad, "notifiers.pagerduty[2].severity: unknown key"));
  CHECK(has_error(bad, "notifiers.teams[0].webhookUrl: required"));
  CHECK(has_error(bad, "notifiers.teams[1].webhookUrl: must be an http(s) URL"));
  CHECK(has_error(bad, "server.externalUrl: must be an http(s) URL"));
  for (const auto& e : bad.errors) CHECK(e.find("s3cr3t") == std::string::npos);

  auto ref = config_reference();
  for (const char* k : {"pagerduty:", "routingKey:", "https://events.pagerduty.com/v2/enqueue",
                        "teams:", "externalUrl:"}) {
    INFO(k);
    CHECK(ref.find(k) != std::string::npos);
  }
}

TEST_CASE("a directory, a missing or a huge file as --config is an error, not the defaults") {
  auto dir = load_config("/tmp");
  REQUIRE(dir.errors.size() == 1);
  CHECK(has_error(dir, "/tmp: cannot read the config file: it is a directory"));
  CHECK(has_error(load_config("/nonexistent/podmedic.yaml"), "cannot read the config file"));
  char path[] = "/tmp/podmedic-config-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream f(path);
    f << "cluster:\n  name: " << std::string(2 << 20, 'x') << "\n";
  }
  CHECK(has_error(load_config(path), "larger than 1 MiB"));
  {
    std::ofstream f(path, std::ios::trunc);
    f << "cluster:\n  name: prod\n";
  }
  auto ok = load_config(path);
  CHECK(ok.errors.empty());
  CHECK(ok.config.cluster.name == "prod");
  std::remove(path);
}

TEST_CASE("a key given twice is an error (the second server block would drop the token)") {
  auto r = parse_config(
      "server:\n  listen: 127.0.0.1:1\n  token: first\nserver:\n  listen: 127.0.0.1:2\n"
      "detect:\n  resolveAfter: 1m\n  resolveAfter: 2m\n",
      "dup.yaml");
  CHECK(has_error(r, "server: duplicate key (line 4)"));
  CHECK(has_error(r, "detect.resolveAfter: duplicate key (line 8)"));
  CHECK(r.config.server.token == "first");
}

TEST_CASE("an unknown key near a known one gets a suggestion") {
  auto r = parse_config("server:\n  lisen: 127.0.0.1:1\ncluster:\n  zzz: 1\n", "typo.yaml");
  CHECK(has_error(r, "server.lisen: unknown key (line 2); did you mean \"listen\"?"));
  CHECK(has_error(r, "cluster.zzz: unknown key (line 4); known keys here"));
  CHECK_FALSE(has_error(r, "cluster.zzz: unknown key (line 4); did you mean"));
}

TEST_CASE("server.listen takes IP addresses and localhost; other host names are refused") {
  for (const char* ok :
       {"127.0.0.1:8080", "0.0.0.0:0", ":8080", "[::]:8080", "[::1]:1", "localhost:8080"}) {
    INFO(ok);
    auto r = parse_config(std::string("server:\n  listen: \"") + ok + "\"\n", "l.yaml");
    CHECK(r.errors.empty());
    CHECK(podmedic::server::listen_address(ok).ok());
  }
  CHECK(podmedic::server::listen_address("localhost:8080").value() == "127.0.0.1");
  CHECK(podmedic::server::listen_address(":8080").value() == "0.0.0.0");
  CHECK(podmedic::server::listen_address("[::1]:8080").value() == "::1");
  for (const char* bad : {"podmedic.svc:8080", "127.0.0.1.evil:8080", "999.1.1.1:80"}) {
    INFO(bad);
    auto r = parse_config(std::string("server:\n  listen: \"") + bad + "\"\n", "l.yaml");
    CHECK(has_error(r, "is not an IP address"));
  }
}
