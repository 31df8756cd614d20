#pragma once
// The YAML configuration of PRODUCT.md, composed from the sections the modules declare
// (<module>/config.h: watch, detect, diagnosis, ollama, notifiers, server, state) and the ones
// that belong to the process itself (cluster, ha, log; config.cpp). Unknown keys and bad values are
// all reported together, each with its path (e.g. "notifiers.slack[0].webhookUrl: ..."). ${VAR} and
// ${VAR:-default} expand from the environment inside scalar values. Each component receives only
// its own section.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "diagnosis/config.h"
#include "diagnosis/evidence.h"
#include "ha/config.h"
#include "incidents/config.h"
#include "notifiers/config.h"
#include "server/config.h"
#include "watcher/config.h"

namespace podmedic::app {

using std::chrono::milliseconds;

struct ClusterSettings {
  std::string name = "default";
  std::string kubeconfig;
  std::string context;
};

// Each module declares its own section (settings struct, keys, checks) next to its code; this
// file composes them. The old names stay as aliases.
using DetectConfig = incidents::DetectConfig;
using DiagnosisSettings = diagnosis::DiagnosisConfig;
using OllamaSettings = diagnosis::OllamaConfig;
using SlackNotifierSettings = notifiers::SlackConfig;
using WebhookNotifierSettings = notifiers::WebhookConfig;
using NotifierSettings = notifiers::NotifiersConfig;
using ServerSettings = server::ServerConfig;
using StateSettings = incidents::StateConfig;

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

using config::expand_env;
using server::listens_beyond_loopback;
using watcher::in_watch_scope;

// Reference documentation of every key (for `podmedic check-config --print-reference`).
std::string config_reference();

// The evidence's facts beyond logs as configured: node facts only with cluster-wide RBAC (no
// watch.namespaces: nodes are cluster-scoped), the diagnosis.changeWindow. For `podmedic run`
// and `podmedic diagnose` alike.
diagnosis::FactSettings fact_settings(const Config& config);

}  // namespace podmedic::app
