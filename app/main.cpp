// podmedic: the command line (CLI11) and nothing else; each command is a function in app/.
// Exit codes: 0 ok, 1 runtime/config failure, 2 usage (an unknown command, flag or argument, a
// missing or malformed value: CLI11's own codes 100-114 all become 2). `--help` on any command
// prints its help and starts nothing.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/commands.h"
#include "app/diagnose_cli.h"
#include "core/text.h"
#include "k8s/cpu.h"

using namespace podmedic;

namespace {

bool cpu_ok() {
  std::string missing;
  if (!k8s::cpu_supported(&missing)) {
    std::fprintf(stderr,
                 "podmedic: this build needs an x86-64-v3 CPU with PCLMUL (missing: %s); "
                 "rebuild with -DPODMEDIC_PORTABLE=ON\n",
                 missing.c_str());
    return false;
  }
  return true;
}

// " (did you mean X?)" when one candidate is within two edits of `word`, else "".
std::string suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = 3;
  for (const auto& c : candidates) {
    if (auto d = text::edit_distance(word, c); d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

// One line saying what was wrong and one saying where help is; exit 2.
int usage_error(const std::string& where, const std::string& message) {
  std::fprintf(stderr, "podmedic%s: %s\nRun 'podmedic%s --help' for usage.\n", where.c_str(),
               message.c_str(), where.c_str());
  return 2;
}

// The flags `cmd` knows, as typed ("--config", "-o").
std::vector<std::string> flags_of(const CLI::App& cmd) {
  std::vector<std::string> out;
  for (const auto* opt : cmd.get_options()) {
    for (const auto& l : opt->get_lnames()) out.push_back("--" + l);
    for (const auto& s : opt->get_snames()) out.push_back("-" + s);
  }
  return out;
}

// A parse error of `cmd` (null: before any command) in our words: the first unknown flag with
// a suggestion, else CLI11's message.
int parse_error(const CLI::App* cmd, const CLI::ParseError& e, int argc, char** argv) {
  const std::string where = cmd ? " " + cmd->get_name() : "";
  if (cmd && dynamic_cast<const CLI::ExtrasError*>(&e)) {
    const auto known = flags_of(*cmd);
    bool after_command = false;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (!after_command) {
        after_command = arg == cmd->get_name();
        continue;
      }
      if (arg.size() < 2 || arg[0] != '-' || arg == "--") continue;
      arg = arg.substr(0, arg.find('='));
      if (std::find(known.begin(), known.end(), arg) == known.end()) {
        return usage_error(where, "unknown flag " + arg + suggest(arg, known));
      }
    }
  }
  return usage_error(where, e.what());
}

}  // namespace

int main(int argc, char** argv) {
  if (!cpu_ok()) return 1;
  CLI::App cli{
      "podmedic: watches a Kubernetes cluster for CrashLoopBackOff, ImagePullBackOff and "
      "OOMKilled, explains them with a local LLM and notifies Slack/webhooks.",
      "podmedic"};
  cli.require_subcommand(0, 1);
  cli.set_version_flag(
      "--version", [] { return app::version_text(); }, "Print version and build facts");

  app::RunOptions run;
  auto* run_cmd = cli.add_subcommand(
      "run", "Watch the cluster (in-cluster, else $KUBECONFIG, else ~/.kube/config)");
  run_cmd->add_option("--config", run.config, "YAML configuration file (optional)")
      ->option_text("FILE");

  app::DemoOptions demo;
  auto* demo_cmd = cli.add_subcommand(
      "demo",
      "An embedded simulated cluster with scripted failures, console output and the web page");
  demo_cmd->add_option("--duration", demo.duration, "Stop after this long (default: until Ctrl-C)")
      ->option_text("D");
  demo_cmd->add_option("--step", demo.step, "Scenario step (default 2s)")->option_text("D");
  demo_cmd->add_option("--listen", demo.listen, "Web page and API (default 127.0.0.1:8080)")
      ->option_text("HOST:PORT");
  demo_cmd->add_option("--config", demo.config, "Its ollama, diagnosis and server sections apply")
      ->option_text("FILE");

  app::DiagnoseOptions diag;
  std::string output = "text";
  auto* diag_cmd = cli.add_subcommand(
      "diagnose",
      "One-shot diagnosis: redacted evidence, the LLM's answer and the rules-based facts, "
      "grouped by workload");
  diag_cmd->add_option("TARGET", diag.target, "NAMESPACE or NAMESPACE/POD")->required();
  diag_cmd->add_option("--config", diag.config, "YAML configuration file")->option_text("FILE");
  diag_cmd->add_option("--question", diag.question, "What to ask the LLM about it")
      ->option_text("TEXT");
  diag_cmd->add_flag("--no-llm", diag.no_llm, "Evidence and rules-based facts only");
  diag_cmd->add_option("-o,--output", output, "text, or json (an array of POST /diagnose replies)")
      ->check(CLI::IsMember({"text", "json"}))
      ->option_text("text|json");

  app::CheckConfigOptions check;
  auto* check_cmd = cli.add_subcommand(
      "check-config", "Validate a configuration file and print every problem (exit 1 if any)");
  check_cmd->add_option("--config", check.config, "YAML configuration file")->option_text("FILE");
  check_cmd->add_flag("--reference", check.reference, "Print every key with its default and doc");

  auto* version_cmd = cli.add_subcommand(
      "version", "Version, git commit, build date, compiler and simdjson kernel");
  std::string help_topic;
  auto* help_cmd = cli.add_subcommand("help", "Help on a command");
  help_cmd->add_option("COMMAND", help_topic, "The command");

  // An unknown command: CLI11 would only say "a subcommand is required".
  std::vector<std::string> commands;
  for (const auto* c : std::as_const(cli).get_subcommands(std::function<bool(const CLI::App*)>()))
    commands.push_back(c->get_name());
  if (argc >= 2 && argv[1][0] != '-' &&
      std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    return usage_error(
        "", std::string("unknown command \"") + argv[1] + "\"" + suggest(argv[1], commands));
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    auto parsed = cli.get_subcommands();
    return parse_error(parsed.empty() ? nullptr : parsed.front(), e, argc, argv);
  }

  if (*run_cmd) return app::run_command(run);
  if (*demo_cmd) return app::demo_command(demo);
  if (*diag_cmd) {
    diag.output = output == "json" ? app::OutputFormat::kJson : app::OutputFormat::kText;
    return app::diagnose_command(diag);
  }
  if (*check_cmd) return app::check_config_command(check);
  if (*version_cmd) {
    std::printf("%s\n", app::version_text().c_str());
    return 0;
  }
  if (*help_cmd && !help_topic.empty()) {
    auto* topic = std::find(commands.begin(), commands.end(), help_topic) == commands.end()
                      ? nullptr
                      : cli.get_subcommand(help_topic);
    if (!topic) {
      return usage_error("",
                         "unknown command \"" + help_topic + "\"" + suggest(help_topic, commands));
    }
    std::fputs(topic->help("podmedic").c_str(), stdout);
    return 0;
  }
  // `podmedic` or `podmedic help`: the overview (not help's own help, which cli.help() would
  // give once `help` was parsed); without a command that is a usage error.
  const bool asked = static_cast<bool>(*help_cmd);
  const auto overview =
      cli.get_formatter()->make_help(&cli, "podmedic", CLI::AppFormatMode::Normal);
  std::fputs(overview.c_str(), asked ? stdout : stderr);
  return asked ? 0 : 2;
}
