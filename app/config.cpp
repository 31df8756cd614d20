#include "app/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/parse.h"

namespace podmedic::app {

namespace {

using namespace config;

Schema root_schema(Config& c) {
  return {
      section(
          "cluster", "which cluster and how to reach it",
          [&c] {
            return Schema{
                str("name", &c.cluster.name, "cluster name shown in alerts and fingerprints"),
                str("kubeconfig", &c.cluster.kubeconfig,
                    "kubeconfig path; empty: in-cluster, then $KUBECONFIG, then ~/.kube/config"),
                str("context", &c.cluster.context, "kubeconfig context; empty: current-context")};
          }),
      section("watch", "what to watch", [&c] { return watcher::watch_schema(c.watch); }),
      section("detect", "what counts as broken",
              [&c] { return incidents::detect_schema(c.detect); }),
      section("diagnosis", "evidence gathering and the LLM explanation",
              [&c] { return diagnosis::diagnosis_schema(c.diagnosis); }),
      section("ollama", "the local LLM server",
              [&c] { return diagnosis::ollama_schema(c.ollama); }),
      section("notifiers", "where alerts go",
              [&c] { return notifiers::notifiers_schema(c.notifiers); }),
      section("server", "the HTTP API and metrics",
              [&c] { return server::server_schema(c.server); }),
      section("state", "persisted incident state",
              [&c] { return incidents::state_schema(c.state); }),
      section("ha", "high availability: several replicas, one notifies (Lease election)",
              [&c] { return ha::ha_schema(c.ha); }),
      section("log", "podmedic's own logs",
              [&c] {
                return Schema{
                    str("level", &c.log.level, "debug | info | warn | error"),
                    str("format", &c.log.format, "auto (text on a TTY, else JSON) | json | text")};
              }),
  };
}

void validate(Config& c, Ctx& ctx) {
  // In the order of the file's sections as users read them.
  if (c.cluster.name.empty()) ctx.error("cluster.name", "must not be empty");
  incidents::validate(c.detect, ctx);
  diagnosis::validate(c.ollama, ctx);
  notifiers::validate(c.notifiers, ctx);
  server::validate(c.server, ctx);
  incidents::validate(c.state, ctx);
  ha::validate(c.ha, ctx);
  static const std::set<std::string> levels = {"debug", "info", "warn", "error"};
  if (!levels.count(c.log.level)) ctx.error("log.level", "expected debug, info, warn or error");
  static const std::set<std::string> formats = {"auto", "json", "text"};
  if (!formats.count(c.log.format)) ctx.error("log.format", "expected auto, json or text");
  watcher::validate(c.watch, ctx);
}

}  // namespace

ConfigResult parse_config(const std::string& text, const std::string& origin) {
  ConfigResult r;
  Ctx ctx{r.errors};
  auto root = parse::yaml_text(text, origin);
  if (!root.ok()) {
    r.errors.push_back(root.error().message);
    return r;
  }
  // Every read goes through scalar()/IsMap()/IsSequence() checks; yaml-cpp's iteration itself
  // does not throw on a loaded document.
  read_map(*root, "", ctx, root_schema(r.config));
  validate(r.config, ctx);
  return r;
}

ConfigResult load_config(const std::string& path) {
  auto fail = [&](const std::string& why) {
    ConfigResult r;
    r.errors.push_back(path + ": cannot read the config file: " + why);
    return r;
  };
  // A directory opens like a file on Linux and reads as empty: it would pass as a config of
  // defaults (listening everywhere, no token). Named pipes (--config <(…)) are fine.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("it is a directory");
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(std::strerror(errno));
  // Bounded: a config is a few KiB; a wrong path to a huge file must not be read whole.
  constexpr std::size_t kMaxConfigBytes = 1 << 20;
  std::string text;
  char buf[8192];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(f.gcount()));
    if (text.size() > kMaxConfigBytes) return fail("larger than 1 MiB");
  }
  if (f.bad()) return fail(std::strerror(errno));
  return parse_config(text, path);
}

std::string config_reference() {
  Config defaults;
  std::ostringstream out;
  document(root_schema(defaults), "", out);
  return out.str();
}

diagnosis::FactSettings fact_settings(const Config& config) {
  diagnosis::FactSettings facts;
  facts.node_facts = config.watch.namespaces.empty();
  facts.node_facts_off =
      "watch.namespaces is set (namespaced Roles only; nodes are cluster-scoped)";
  facts.change_window_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(config.diagnosis.change_window).count();
  return facts;
}

}  // namespace podmedic::app
