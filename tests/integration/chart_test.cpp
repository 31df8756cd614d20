// The Helm chart, rendered by the real helm (v4, from scripts/setup.sh --tools): lint passes for
// the default and the full values; the rendered RBAC never grants a write verb; the workload is
// locked down; the podmedic.yaml the chart renders is accepted by podmedic's own config parser;
// the HTTP API token comes from a Secret (or its absence is chosen explicitly; a render that
// cannot see the cluster refuses to invent one); the NetworkPolicy is on by default; and
// deploy/podmedic.yaml (the plain manifests) is exactly `helm template` of the defaults with the
// user-created token Secret; the platform knobs (extraEnv, podLabels, priorityClassName,
// topologySpreadConstraints, name overrides, service annotations, LLM tuning) land where they
// should; HA adds a PodDisruptionBudget and soft anti-affinity; the LLM is off without one.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "app/config.h"
#include "tests/process.h"
#include "tests/support.h"

using namespace podmedic;

namespace {
std::string helm() {
  return test::source_dir() + "/.tools/bin/helm";
}
std::string chart() {
  return test::source_dir() + "/helm/podmedic";
}
// What deploy/ and most tests render with: the token from a Secret the user creates (a blind
// render of the bare defaults mints a new random token each time, see "the API token" below).
const std::vector<std::string> kTokenSecret = {"--set",
                                               "server.existingTokenSecret=podmedic-api-token"};

std::pair<int, std::string> run(std::vector<std::string> argv) {
  test::Child c(argv, "/tmp");
  int code = c.wait();
  return {code, c.output()};
}

std::pair<int, std::string> try_render(const std::vector<std::string>& extra,
                                       const std::string& chart_dir = chart()) {
  std::vector<std::string> argv = {helm(),    "template",    "podmedic",
                                   chart_dir, "--namespace", "podmedic"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run(argv);
}

std::string render(const std::vector<std::string>& extra, const std::string& chart_dir = chart()) {
  auto [code, out] = try_render(extra, chart_dir);
  INFO(out);
  REQUIRE(code == 0);
  return out;
}

std::vector<YAML::Node> docs_of_kind(const std::string& yaml, const std::string& kind) {
  std::vector<YAML::Node> out;
  for (const auto& d : YAML::LoadAll(yaml))
    if (d.IsMap() && d["kind"].as<std::string>() == kind) out.push_back(d);
  return out;
}

YAML::Node podmedic_container(const std::string& yaml) {
  for (const auto& d : docs_of_kind(yaml, "Deployment"))
    if (d["metadata"]["name"].as<std::string>() == "podmedic")
      return d["spec"]["template"]["spec"]["containers"][0];
  FAIL("no Deployment podmedic");
  return {};
}

// The PODMEDIC_TOKEN env entry of the podmedic container (undefined node when absent).
YAML::Node token_env(const std::string& yaml) {
  for (const auto& e : podmedic_container(yaml)["env"])
    if (e["name"].as<std::string>() == "PODMEDIC_TOKEN") return e;
  return YAML::Node(YAML::NodeType::Undefined);
}

// The server.token podmedic ends up with, reading the rendered ConfigMap with PODMEDIC_TOKEN set.
std::string configured_token(const std::string& yaml) {
  setenv("PODMEDIC_TOKEN", "from-the-secret", 1);
  auto cms = docs_of_kind(yaml, "ConfigMap");
  REQUIRE(cms.size() == 1);
  auto parsed = app::parse_config(cms[0]["data"]["podmedic.yaml"].as<std::string>(), "configmap");
  REQUIRE(parsed.errors.empty());
  return parsed.config.server.token;
}

// A copy of the chart whose token Secret `lookup` answers as a live cluster would: it returns
// `secret_lookup` (a template expression).
// helm cannot reach a cluster here, so this is how the install/upgrade path is rendered.
std::string chart_seeing_cluster(const std::string& dir, const std::string& secret_lookup) {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  fs::copy(chart(), dir, fs::copy_options::recursive);
  auto replace_in = [&](const std::string& file, const std::string& from, const std::string& to) {
    std::ifstream in(dir + "/templates/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto at = text.find(from);
    INFO(file << ": " << from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(dir + "/templates/" + file) << text;
  };
  replace_in("token-secret.yaml", R"(lookup "v1" "Secret" .Release.Namespace $name)",
             secret_lookup);
  return dir;
}

void check_rendered(const std::string& yaml, bool full) {
  auto docs = YAML::LoadAll(yaml);
  std::set<std::string> kinds;
  int roles = 0;
  for (const auto& d : docs) {
    if (!d.IsMap()) continue;
    const auto kind = d["kind"].as<std::string>();
    kinds.insert(kind);
    if (kind == "ClusterRole" || kind == "Role") {
      ++roles;
      const std::string name = d["metadata"]["name"].as<std::string>();
      const bool leader = kind == "Role" && name == "podmedic-leader";
      for (const auto& rule : d["rules"]) {
        for (const auto& verb : rule["verbs"]) {
          auto v = verb.as<std::string>();
          INFO(kind << " " << name << " grants " << v);
          if (v == "get" || v == "list" || v == "watch") continue;
          // The one write permission (ha.enabled): the Lease and the state ConfigMap, updates
          // only by name; nothing else anywhere.
          CHECK(leader);
          CHECK((v == "create" || v == "update"));
          for (const auto& res : rule["resources"]) {
            auto r = res.as<std::string>();
            CHECK((r == "leases" || r == "configmaps"));
          }
          if (v == "update") CHECK(rule["resourceNames"].size() == 1);
        }
      }
    }
    if (kind == "Deployment" && d["metadata"]["name"].as<std::string>() == "podmedic") {
      const auto pod = d["spec"]["template"]["spec"];
      CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
      CHECK(pod["securityContext"]["seccompProfile"]["type"].as<std::string>() == "RuntimeDefault");
      const auto c = pod["containers"][0];
      CHECK(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
      CHECK_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
      CHECK(c["securityContext"]["capabilities"]["drop"][0].as<std::string>() == "ALL");
      CHECK(c["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
      CHECK(c["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
      CHECK(c["resources"]["limits"]["memory"].IsDefined());
    }
    if (kind == "ConfigMap") {
      // The config as podmedic reads it, with the Secret-backed variables set.
      for (const char* var :
           {"PODMEDIC_SLACK_0_URL", "PODMEDIC_SLACK_1_BOT_TOKEN", "PODMEDIC_WEBHOOK_0_SECRET",
            "PODMEDIC_TOKEN", "PODMEDIC_ALERTMANAGER_0_PASSWORD"}) {
        setenv(var, var == std::string("PODMEDIC_SLACK_0_URL") ? "https://hooks.slack.com/x" : "v",
               1);
      }
      setenv("PODMEDIC_PAGERDUTY_0_ROUTING_KEY", "0123456789abcdef0123456789abcdef", 1);
      setenv("PODMEDIC_TEAMS_0_URL", "https://prod.westeurope.logic.azure.com/workflows/x", 1);
      auto text = d["data"]["podmedic.yaml"].as<std::string>();
      auto parsed = app::parse_config(text, "configmap");
      std::string errors;
      for (const auto& e : parsed.errors) errors += e + "\n";
      INFO(text);
      INFO(errors);
      CHECK(parsed.errors.empty());
      if (full) {
        CHECK(parsed.config.notifiers.slack.size() == 2);
        CHECK(parsed.config.notifiers.slack[1].channel == "C0123456789");
        REQUIRE(parsed.config.notifiers.alertmanager.size() == 1);
        const auto& am = parsed.config.notifiers.alertmanager[0];
        CHECK(am.urls == std::vector<std::string>{"http://alertmanager-operated.monitoring:9093"});
        CHECK(am.resend_interval == std::chrono::minutes(2));
        CHECK(am.labels == std::map<std::string, std::string>{{"team", "platform"}});
        CHECK(am.basic_username == "podmedic");
        CHECK(am.basic_password == "v");  // from the Secret, through the environment
        CHECK(parsed.config.watch.namespaces.size() == 2);
        CHECK(parsed.config.diagnosis.mask_names);
        CHECK(parsed.config.ollama.url == "http://podmedic-ollama:11434");
        CHECK(parsed.config.server.token == "v");
        CHECK(parsed.config.ha.enabled);
        CHECK(parsed.config.ha.lease_name == "podmedic");
        CHECK(parsed.config.ha.lease_namespace == "podmedic");
        REQUIRE(parsed.config.notifiers.pagerduty.size() == 1);
        CHECK(parsed.config.notifiers.pagerduty[0].routing_key ==
              "0123456789abcdef0123456789abcdef");
        CHECK(parsed.config.notifiers.pagerduty[0].reasons ==
              std::vector<std::string>{"OOMKilled"});
        REQUIRE(parsed.config.notifiers.teams.size() == 1);
        CHECK(parsed.config.notifiers.teams[0].webhook_url ==
              "https://prod.westeurope.logic.azure.com/workflows/x");
        CHECK(parsed.config.server.external_url == "https://podmedic.example.com");
        // The secrets come from the Secret, never the ConfigMap.
        CHECK(text.find("0123456789abcdef0123456789abcdef") == std::string::npos);
        CHECK(text.find("logic.azure.com") == std::string::npos);
      }
    }
  }
  // One Role per listed namespace (+ the leader's Role with ha), or one ClusterRole.
  CHECK(roles == (full ? 3 : 1));
  for (const char* k : {"Deployment", "ServiceAccount", "ConfigMap", "Service", "NetworkPolicy"})
    CHECK(kinds.count(k));
  if (full) {
    for (const char* k : {"ServiceMonitor", "PrometheusRule", "NetworkPolicy", "Secret",
                          "PersistentVolumeClaim", "RoleBinding"}) {
      INFO(k);
      CHECK(kinds.count(k));
    }
  }
}
}  // namespace

TEST_CASE("helm chart: lint and template for the default and the full values") {
  auto [lint, lint_out] = run({helm(), "lint", chart()});
  INFO(lint_out);
  CHECK(lint == 0);
  auto [lint_full, lint_full_out] =
      run({helm(), "lint", chart(), "-f", chart() + "/ci/full-values.yaml"});
  INFO(lint_full_out);
  CHECK(lint_full == 0);
  for (const char* shard : {"shard-a.yaml", "shard-b.yaml"}) {
    auto [code, out] = run({helm(), "lint", chart(), "-f", chart() + "/examples/" + shard});
    INFO(out);
    CHECK(code == 0);
  }
  check_rendered(render(kTokenSecret), false);
  check_rendered(render({"-f", chart() + "/ci/full-values.yaml"}), true);
}

TEST_CASE("helm chart: values.schema.json rejects bad values at install time") {
  auto [code, out] = run({helm(), "template", "x", chart(), "--set", "detect.resolveAfter=soon"});
  CHECK(code != 0);
  CHECK(out.find("resolveAfter") != std::string::npos);
  for (const char* bad : {"detect.severity.OOMKilled=urgent", "detect.severity.Exploded=info",
                          "detect.runbooks.OOMKilled=ftp://x"}) {
    INFO(bad);
    auto [c, o] = run(
        {helm(), "template", "x", chart(), "--set", bad, "--set", "server.existingTokenSecret=t"});
    CHECK(c != 0);
  }
  {
    // Severity and runbooks reach the rendered config as podmedic reads them.
    auto yaml = render({"-f", chart() + "/ci/full-values.yaml"});
    CHECK(yaml.find("severity: {\"CrashLoopBackOff\":\"critical\"}") != std::string::npos);
    CHECK(yaml.find("runbooks: {\"OOMKilled\":\"https://runbooks.example/oom?ns={namespace}") !=
          std::string::npos);
  }
  auto [code1, out1] = run({helm(), "template", "x", chart(), "--set", "replicaCount=2", "--set",
                            "server.existingTokenSecret=t"});
  CHECK(code1 != 0);  // two replicas need ha.enabled, and the message says so
  CHECK(out1.find("set ha.enabled=true for replicaCount > 1") != std::string::npos);
  auto [code3, out3] = run({helm(), "template", "x", chart(), "--set", "ollama.numCtx=100"});
  CHECK(code3 != 0);
  CHECK(out3.find("numCtx") != std::string::npos);
  auto [code4, out4] = run({helm(), "template", "x", chart(), "--set", "extraEnv[0].value=x"});
  CHECK(code4 != 0);  // an EnvVar needs a name
  CHECK(out4.find("extraEnv") != std::string::npos);
  auto [code2, out2] = run({helm(), "template", "x", chart(), "--set", "notifiers.slak=1"});
  CHECK(code2 != 0);
  CHECK(out2.find("slak") != std::string::npos);
  auto [code5, out5] =
      run({helm(), "template", "x", chart(), "--set", "notifiers.alertmanager[0].name=am", "--set",
           "notifiers.alertmanager[0].urls[0]=ftp://am:9093"});
  CHECK(code5 != 0);  // Alertmanager URLs are http(s)
  CHECK(out5.find("urls") != std::string::npos);
  auto [code6, out6] =
      run({helm(), "template", "x", chart(), "--set", "notifiers.alertmanager[0].name=am", "--set",
           "notifiers.alertmanager[0].urls[0]=http://am:9093", "--set",
           "notifiers.alertmanager[0].labels.team-x=a"});
  CHECK(code6 != 0);  // not a Prometheus label name
  CHECK(out6.find("team-x") != std::string::npos);
  // PagerDuty and Teams take their secrets from the Secret only.
  for (const char* bad : {"notifiers.pagerduty[0].name=pd", "notifiers.teams[0].name=t",
                          "notifiers.teams[0].webhookUrl=https://x"}) {
    INFO(bad);
    auto [c, o] = run({helm(), "template", "x", chart(), "--set", bad});
    CHECK(c != 0);
    CHECK(o.find("SecretKey") != std::string::npos);
  }
}

TEST_CASE("deploy/podmedic.yaml is the chart rendered with its defaults") {
  std::ifstream f(test::source_dir() + "/deploy/podmedic.yaml");
  REQUIRE(f);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string header =
      "# Generated by scripts/render-manifests.sh from helm/podmedic; do not edit.\n"
      "# Create the API token first: kubectl -n podmedic create secret generic podmedic-api-token "
      "--from-literal=token=$(openssl rand -hex 32)\n";
  INFO("run scripts/render-manifests.sh and commit deploy/podmedic.yaml");
  CHECK(ss.str() == header + render(kTokenSecret));
  // The plain manifests read the token from the Secret the user creates, never a generated one.
  const auto env = token_env(ss.str());
  REQUIRE(env.IsDefined());
  CHECK(env["valueFrom"]["secretKeyRef"]["name"].as<std::string>() == "podmedic-api-token");
  CHECK(docs_of_kind(ss.str(), "Secret").empty());
}

TEST_CASE("helm chart: the API token") {
  SECTION("defaults where lookup cannot see the cluster: renders, with a random token Secret") {
    // `helm template` with no values must work (CI, Argo CD, reviewers); the token is minted per
    // render there, as charts with generated passwords do.
    auto [code, out] = try_render({});
    INFO(out);
    REQUIRE(code == 0);
    auto secrets = docs_of_kind(out, "Secret");
    REQUIRE(secrets.size() == 1);
    const auto token = secrets[0]["data"]["token"].as<std::string>();
    CHECK(token.size() == 64);  // base64 of 48 characters
    auto env = token_env(out);
    REQUIRE(env.IsDefined());
    CHECK(env["valueFrom"]["secretKeyRef"]["name"].as<std::string>() ==
          secrets[0]["metadata"]["name"].as<std::string>());
    CHECK(configured_token(out) == "from-the-secret");
  }
  SECTION("server.existingTokenSecret: a secretKeyRef to it, the config reads ${PODMEDIC_TOKEN}") {
    auto yaml = render({"--set", "server.existingTokenSecret=my-token"});
    auto env = token_env(yaml);
    REQUIRE(env.IsDefined());
    CHECK(env["valueFrom"]["secretKeyRef"]["name"].as<std::string>() == "my-token");
    CHECK(env["valueFrom"]["secretKeyRef"]["key"].as<std::string>() == "token");
    CHECK(configured_token(yaml) == "from-the-secret");
    CHECK(docs_of_kind(yaml, "Secret").empty());  // the user's Secret, not the chart's
    auto other_key = render({"--set", "server.existingTokenSecret=my-token", "--set",
                             "server.existingTokenSecretKey=api"});
    CHECK(token_env(other_key)["valueFrom"]["secretKeyRef"]["key"].as<std::string>() == "api");
  }
  SECTION("server.tokenSecretKey: a key in the notifier Secret") {
    auto yaml = render({"--set", "secret.existingSecret=podmedic-secrets", "--set",
                        "server.tokenSecretKey=api-token"});
    auto env = token_env(yaml);
    REQUIRE(env.IsDefined());
    CHECK(env["valueFrom"]["secretKeyRef"]["name"].as<std::string>() == "podmedic-secrets");
    CHECK(env["valueFrom"]["secretKeyRef"]["key"].as<std::string>() == "api-token");
  }
  SECTION("server.allowUnauthenticated: no token anywhere") {
    auto yaml = render({"--set", "server.allowUnauthenticated=true"});
    CHECK_FALSE(token_env(yaml).IsDefined());
    CHECK(yaml.find("PODMEDIC_TOKEN") == std::string::npos);
    CHECK(configured_token(yaml).empty());  // even with PODMEDIC_TOKEN in the environment
    CHECK(docs_of_kind(yaml, "Secret").empty());
  }
  SECTION("contradictory choices are refused") {
    auto [code, out] = try_render(
        {"--set", "server.allowUnauthenticated=true", "--set", "server.existingTokenSecret=t"});
    INFO(out);
    CHECK(code != 0);
    CHECK(out.find("contradicts") != std::string::npos);
    auto [code2, out2] =
        try_render({"--set", "server.tokenSecretKey=k", "--set", "server.existingTokenSecret=t"});
    INFO(out2);
    CHECK(code2 != 0);
    CHECK(out2.find("not both") != std::string::npos);
  }
  SECTION("where lookup sees the cluster: created once, the existing value kept on upgrade") {
    const std::string dir = "/tmp/podmedic-chart-" + std::to_string(::getpid());
    // First install: no Secret yet, a random 48-character token.
    auto fresh = render({}, chart_seeing_cluster(dir, "dict"));
    auto secrets = docs_of_kind(fresh, "Secret");
    REQUIRE(secrets.size() == 1);
    CHECK(secrets[0]["metadata"]["name"].as<std::string>() == "podmedic-api-token");
    const auto minted = secrets[0]["data"]["token"].as<std::string>();
    CHECK(std::regex_match(minted, std::regex("[A-Za-z0-9+/]{64}")));  // base64 of 48 bytes
    CHECK(docs_of_kind(render({}, dir), "Secret")[0]["data"]["token"].as<std::string>() != minted);
    auto env = token_env(fresh);
    REQUIRE(env.IsDefined());
    CHECK(env["valueFrom"]["secretKeyRef"]["name"].as<std::string>() == "podmedic-api-token");
    CHECK(configured_token(fresh) == "from-the-secret");
    // Upgrade: the Secret exists, its value is rendered again unchanged.
    auto upgrade =
        render({}, chart_seeing_cluster(dir, R"(dict "data" (dict "token" "a2VwdC10b2tlbg=="))"));
    CHECK(docs_of_kind(upgrade, "Secret")[0]["data"]["token"].as<std::string>() ==
          "a2VwdC10b2tlbg==");
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("helm chart: NetworkPolicy on by default, ingress to the HTTP port only") {
  auto policies = docs_of_kind(render(kTokenSecret), "NetworkPolicy");
  REQUIRE(policies.size() == 1);
  const auto spec = policies[0]["spec"];
  REQUIRE(spec["policyTypes"].size() == 1);
  CHECK(spec["policyTypes"][0].as<std::string>() == "Ingress");  // egress left open by default
  REQUIRE(spec["ingress"].size() == 1);
  const auto rule = spec["ingress"][0];
  CHECK(rule["ports"].size() == 1);
  CHECK(rule["ports"][0]["port"].as<int>() == 8080);
  // From this namespace and the monitoring namespace, never from everywhere (no empty `from`).
  REQUIRE(rule["from"].size() == 2);
  CHECK(rule["from"][0]["podSelector"].IsMap());
  CHECK(rule["from"][0]["podSelector"].size() == 0);
  CHECK(rule["from"][1]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            .as<std::string>() == "monitoring");

  auto off = render({kTokenSecret[0], kTokenSecret[1], "--set", "networkPolicy.enabled=false"});
  CHECK(docs_of_kind(off, "NetworkPolicy").empty());

  auto full = docs_of_kind(render({"-f", chart() + "/ci/full-values.yaml"}), "NetworkPolicy");
  REQUIRE(full.size() == 2);  // podmedic's, and the bundled Ollama's (reachable from podmedic only)
  CHECK(full[0]["spec"]["policyTypes"].size() == 2);  // restrictEgress
  CHECK(full[1]["metadata"]["name"].as<std::string>() == "podmedic-ollama");
  CHECK(full[1]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
            ["app.kubernetes.io/name"]
                .as<std::string>() == "podmedic");
}

TEST_CASE("helm chart: the PrometheusRule passes promtool and links its runbooks") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (std::getenv("CI")) FAIL("promtool not found: run scripts/setup.sh");
    WARN("promtool not installed (scripts/setup.sh); skipping promtool check rules");
    return;
  }
  auto runbooks_of = [](const std::string& yaml) {
    std::map<std::string, std::string> out;  // alert → runbook_url
    auto rules = docs_of_kind(yaml, "PrometheusRule");
    REQUIRE(rules.size() == 1);
    for (const auto& g : rules[0]["spec"]["groups"])
      for (const auto& r : g["rules"])
        if (r["annotations"]["runbook_url"])
          out[r["alert"].as<std::string>()] = r["annotations"]["runbook_url"].as<std::string>();
    return out;
  };
  std::vector<std::string> args = kTokenSecret;
  args.insert(args.end(), {"--set", "prometheusRule.enabled=true"});
  auto yaml = render(args);
  // The rule group as Prometheus loads it (the PrometheusRule's spec is a rule file).
  test::TempDir dir;
  YAML::Emitter spec;
  spec << docs_of_kind(yaml, "PrometheusRule")[0]["spec"];
  auto file = dir.write("rules.yaml", spec.c_str());
  auto [code, out] = run({"/bin/sh", "-c", "promtool check rules " + file});
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("SUCCESS: 6 rules found") != std::string::npos);
  // The runbooks: the anchors of docs/operations.md by default, or the chart value's base.
  const std::string base = "https://github.com/podmedic/podmedic/blob/main/docs/operations.md";
  auto runbooks = runbooks_of(yaml);
  CHECK(runbooks ==
        std::map<std::string, std::string>{{"PodmedicDown", base + "#podmedicdown"},
                                           {"PodmedicNotSynced", base + "#podmedicnotsynced"},
                                           {"PodmedicLLMFailing", base + "#podmedicllmfailing"}});
  std::ifstream ops(test::source_dir() + "/docs/operations.md");
  std::stringstream text;
  text << ops.rdbuf();
  for (const char* heading :
       {"\n### PodmedicDown\n", "\n### PodmedicNotSynced\n", "\n### PodmedicLLMFailing\n"}) {
    CHECK(text.str().find(heading) != std::string::npos);
  }
  args.insert(args.end(), {"--set", "prometheusRule.runbookBaseUrl=https://wiki.example/podmedic"});
  CHECK(runbooks_of(render(args))["PodmedicDown"] == "https://wiki.example/podmedic#podmedicdown");
}

TEST_CASE("helm chart: platform knobs land in the rendered objects") {
  const std::string yaml =
      render({"--set", "server.existingTokenSecret=podmedic-api-token",
              "--set", "extraEnv[0].name=HTTPS_PROXY",
              "--set", "extraEnv[0].value=http://proxy:3128",
              "--set", "podLabels.team=platform",
              "--set", "priorityClassName=system-cluster-critical",
              "--set", "topologySpreadConstraints[0].maxSkew=1",
              "--set", "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
              "--set", "topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
              "--set", "service.annotations.team=platform",
              "--set", "ollama.url=http://ollama.ai:11434",
              "--set", "ollama.numCtx=4096",
              "--set", "ollama.numPredict=256",
              "--set", "ollama.stream=false"});
  auto deployments = docs_of_kind(yaml, "Deployment");
  REQUIRE(deployments.size() == 1);
  const auto pod = deployments[0]["spec"]["template"];
  CHECK(pod["metadata"]["labels"]["team"].as<std::string>() == "platform");
  // Extra pod labels never join the selector (it is immutable).
  CHECK_FALSE(deployments[0]["spec"]["selector"]["matchLabels"]["team"].IsDefined());
  CHECK(pod["spec"]["priorityClassName"].as<std::string>() == "system-cluster-critical");
  CHECK(pod["spec"]["topologySpreadConstraints"][0]["topologyKey"].as<std::string>() ==
        "topology.kubernetes.io/zone");
  bool proxy = false;
  for (const auto& e : pod["spec"]["containers"][0]["env"])
    proxy |= e["name"].as<std::string>() == "HTTPS_PROXY" &&
             e["value"].as<std::string>() == "http://proxy:3128";
  CHECK(proxy);
  CHECK(docs_of_kind(yaml, "Service")[0]["metadata"]["annotations"]["team"].as<std::string>() ==
        "platform");
  // No HA: no PDB, no anti-affinity.
  CHECK(docs_of_kind(yaml, "PodDisruptionBudget").empty());
  CHECK_FALSE(pod["spec"]["affinity"].IsDefined());
  // The LLM tuning reaches the config podmedic reads, and an LLM URL turns diagnosis on.
  setenv("PODMEDIC_TOKEN", "t", 1);
  auto parsed = app::parse_config(
      docs_of_kind(yaml, "ConfigMap")[0]["data"]["podmedic.yaml"].as<std::string>(), "configmap");
  REQUIRE(parsed.errors.empty());
  CHECK(parsed.config.diagnosis.enabled);
  CHECK(parsed.config.ollama.url == "http://ollama.ai:11434");
  CHECK(parsed.config.ollama.num_ctx == 4096);
  CHECK(parsed.config.ollama.num_predict == 256);
  CHECK_FALSE(parsed.config.ollama.stream);
}

TEST_CASE("helm chart: nameOverride and fullnameOverride name every object") {
  const std::string by_name =
      render({"--set", "server.existingTokenSecret=t", "--set", "nameOverride=triage"});
  CHECK(docs_of_kind(by_name, "Deployment")[0]["metadata"]["name"].as<std::string>() ==
        "podmedic-triage");
  CHECK(docs_of_kind(by_name,
                     "Deployment")[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
            .as<std::string>() == "triage");
  const std::string full =
      render({"--set", "server.existingTokenSecret=t", "--set", "fullnameOverride=crashwatch"});
  for (const char* kind : {"Deployment", "Service", "ConfigMap", "ServiceAccount"}) {
    INFO(kind);
    CHECK(docs_of_kind(full, kind)[0]["metadata"]["name"].as<std::string>() == "crashwatch");
  }
  auto [code, out] =
      try_render({"--set", "server.existingTokenSecret=t", "--set", "fullnameOverride=Not_A_Name"});
  CHECK(code != 0);
  CHECK(out.find("fullnameOverride") != std::string::npos);
}

TEST_CASE("helm chart: HA adds a PodDisruptionBudget and soft anti-affinity") {
  const std::string yaml = render({"--set", "server.existingTokenSecret=t", "--set",
                                   "ha.enabled=true", "--set", "replicaCount=2"});
  auto pdbs = docs_of_kind(yaml, "PodDisruptionBudget");
  REQUIRE(pdbs.size() == 1);
  CHECK(pdbs[0]["spec"]["maxUnavailable"].as<int>() == 1);
  CHECK(
      pdbs[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"].as<std::string>() ==
      "podmedic");
  const auto affinity = docs_of_kind(yaml, "Deployment")[0]["spec"]["template"]["spec"]["affinity"];
  // Soft: preferred, never required (a one-node cluster still runs both replicas).
  CHECK_FALSE(
      affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].IsDefined());
  const auto term =
      affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0];
  CHECK(term["podAffinityTerm"]["topologyKey"].as<std::string>() == "kubernetes.io/hostname");
  // A user's own affinity replaces ours.
  const std::string own =
      render({"--set", "server.existingTokenSecret=t", "--set", "ha.enabled=true", "--set",
              "replicaCount=2", "--set", "affinity.nodeAffinity.x=y"});
  const auto own_affinity =
      docs_of_kind(own, "Deployment")[0]["spec"]["template"]["spec"]["affinity"];
  CHECK(own_affinity["nodeAffinity"].IsDefined());
  CHECK_FALSE(own_affinity["podAntiAffinity"].IsDefined());
}

TEST_CASE("helm chart: without a bundled or named LLM, diagnosis is rules-based only") {
  auto diagnosis_enabled = [](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--set", "server.existingTokenSecret=t"};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string yaml = render(args);
    setenv("PODMEDIC_TOKEN", "t", 1);
    auto parsed = app::parse_config(
        docs_of_kind(yaml, "ConfigMap")[0]["data"]["podmedic.yaml"].as<std::string>(), "configmap");
    REQUIRE(parsed.errors.empty());
    return parsed.config.diagnosis.enabled;
  };
  CHECK_FALSE(diagnosis_enabled({}));
  CHECK(diagnosis_enabled({"--set", "ollama.url=http://ollama.ai:11434"}));
  CHECK(diagnosis_enabled({"--set", "ollama.bundled.enabled=true"}));
  // An LLM, but the user turned diagnosis off: off.
  CHECK_FALSE(diagnosis_enabled(
      {"--set", "ollama.url=http://ollama.ai:11434", "--set", "diagnosis.enabled=false"}));
}

TEST_CASE("plain manifests: kubectl apply -k k8s/ (PRODUCT.md's path) builds deploy/") {
  const std::string kubectl = test::source_dir() + "/.tools/bin/kubectl";
  auto [code, from_k8s] = run({kubectl, "kustomize", test::source_dir() + "/k8s"});
  INFO(from_k8s);
  REQUIRE(code == 0);
  auto [code2, from_deploy] = run({kubectl, "kustomize", test::source_dir() + "/deploy"});
  REQUIRE(code2 == 0);
  CHECK(from_k8s == from_deploy);
  REQUIRE(docs_of_kind(from_k8s, "Deployment").size() == 1);
  CHECK(docs_of_kind(from_k8s, "Deployment")[0]["metadata"]["namespace"].as<std::string>() ==
        "podmedic");
}
