#pragma once
// The commands of the podmedic binary, each a function of its parsed options (app/main.cpp
// only parses the command line). Exit codes: 0 ok, 1 runtime/config failure, 2 usage.
// `podmedic diagnose` is in app/diagnose_cli.h.
#include <optional>
#include <string>

#include "app/config.h"

namespace podmedic::app {

// `podmedic run [--config FILE]`: the daemon until SIGINT/SIGTERM.
struct RunOptions {
  std::optional<std::string> config;
};
int run_command(const RunOptions& options);

// `podmedic demo`: the simulated cluster with scripted failures, console output and the page.
struct DemoOptions {
  std::optional<std::string> duration;  // e.g. "30s"; none: until Ctrl-C
  std::optional<std::string> step;      // scenario step, default 2s
  std::optional<std::string> listen;    // HOST:PORT of the page and API
  std::optional<std::string> config;
};
int demo_command(const DemoOptions& options);

// `podmedic check-config --config FILE | --reference`.
struct CheckConfigOptions {
  std::optional<std::string> config;
  bool reference = false;
};
int check_config_command(const CheckConfigOptions& options);

// `podmedic version`: version, git commit, build date, compiler and the simdjson kernel in use,
// one "key: value" per line after the first ("podmedic VERSION"); no final newline.
std::string version_text();

// The configuration for a command: defaults without a file; nullopt after printing every
// problem of an invalid file on stderr.
std::optional<Config> load_for_command(const std::optional<std::string>& path);

}  // namespace podmedic::app
