#pragma once
// The YAML configuration of PRODUCT.md. Every key is declared once (type, default, doc) in
// config.cpp; unknown keys and bad values are all reported together, each with its path
// (e.g. "notifiers.slack[0].webhookUrl: ..."). ${VAR} and ${VAR:-default} expand from the
// environment inside scalar values. Each component receives only its own section.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ha/config.h"
#include "rules/detect.h"
#include "watcher/watcher.h"

namespace podmedic::app {

using std::chrono::milliseconds;

struct ClusterSettings {
  std::string name = "default";
  std::string kubeconfig;
  std::string context;
};

struct DetectConfig {
  rules::DetectSettings rules;
  milliseconds resolve_after{std::chrono::minutes(5)};
  milliseconds renotify_after{std::chrono::hours(4)};
  milliseconds flap_hold_down{std::chrono::minutes(10)};
};

struct DiagnosisSettings {
  bool enabled = true;
  milliseconds wait_before_notify{std::chrono::seconds(10)};
  std::uint64_t fetch_bytes = 2 * 1024 * 1024;
  std::uint64_t max_bytes = 8000;
  int concurrency = 1;
  int queue_size = 256;
  std::vector<std::string> redact_patterns;
  bool mask_names = false;
};

struct OllamaSettings {
  std::string url = "http://127.0.0.1:11434";
  std::string model = "mistral";
  milliseconds timeout{std::chrono::seconds(120)};
  std::string api = "ollama";  // ollama | openai
  bool stream = true;
  int num_ctx = 8192;
  int num_predict = 512;
};

struct SlackNotifierSettings {
  std::string name;
  std::string webhook_url;
  std::string bot_token;  // bot mode (chat.postMessage) instead of webhook_url
  std::string channel;
  std::string api_url = "https://slack.com/api";
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
};

struct WebhookNotifierSettings {
  std::string name;
  std::string url;
  std::string secret;
  std::vector<std::string> namespaces;
  std::vector<std::string> reasons;
};

struct NotifierSettings {
  std::vector<SlackNotifierSettings> slack;
  std::vector<WebhookNotifierSettings> webhooks;
};

struct ServerSettings {
  std::string listen = "0.0.0.0:8080";
  std::string token;
  // Connections served at once; beyond it 503 and close. Start-up reserves this many file
  // descriptors plus kReservedDescriptors for the rest of the process (see reserve_descriptors).
  int max_connections = 256;
  milliseconds idle_timeout{std::chrono::seconds(5)};  // keep-alive / first byte wait
};

struct StateSettings {
  std::string dir = "/var/lib/podmedic";
  milliseconds outbox_max_age{std::chrono::hours(24)};  // older undelivered messages are dropped
};

using HaSettings = ha::HaConfig;  // the ha: section, declared by the ha module

struct LogSettings {
  std::string level = "info";   // debug | info | warn | error
  std::string format = "auto";  // auto (text on a TTY) | json | text
};

struct Config {
  ClusterSettings cluster;
  watcher::WatchSettings watch;
  DetectConfig detect;
  DiagnosisSettings diagnosis;
  OllamaSettings ollama;
  NotifierSettings notifiers;
  ServerSettings server;
  StateSettings state;
  HaSettings ha;
  LogSettings log;
};

struct ConfigResult {
  Config config;
  std::vector<std::string> errors;  // empty: valid
};

// Parses YAML text (`origin` names the file in messages). Never throws.
ConfigResult parse_config(const std::string& yaml_text, const std::string& origin);
ConfigResult load_config(const std::string& path);

// Expands ${VAR} and ${VAR:-default}; an unset ${VAR} becomes empty and is reported in `unset`.
std::string expand_env(const std::string& in, std::vector<std::string>* unset = nullptr);

// Whether server.listen ("host:port") binds beyond the loopback interface: true for 0.0.0.0,
// [::], an empty host and any address not in 127.0.0.0/8 or ::1; a host name other than
// "localhost" counts as beyond loopback.
bool listens_beyond_loopback(const std::string& listen);

// Whether a namespace is in the watch scope: listed in watch.namespaces (or that list is empty)
// and not in watch.excludeNamespaces.
bool in_watch_scope(const watcher::WatchSettings& watch, const std::string& ns);

// Reference documentation of every key (for `podmedic check-config --print-reference`).
std::string config_reference();

}  // namespace podmedic::app
