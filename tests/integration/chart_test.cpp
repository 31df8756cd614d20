// The Helm chart, rendered by the real helm (v4, from scripts/setup.sh --tools): lint passes for
// the default and the full values; the rendered RBAC never grants a write verb; the workload is
// locked down; the podmedic.yaml the chart renders is accepted by podmedic's own config parser;
// and deploy/podmedic.yaml (the plain manifests) is exactly `helm template` of the defaults.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
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

std::pair<int, std::string> run(std::vector<std::string> argv) {
  test::Child c(argv, "/tmp");
  int code = c.wait();
  return {code, c.output()};
}

std::string render(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {helm(),  "template",    "podmedic",
                                   chart(), "--namespace", "podmedic"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto [code, out] = run(argv);
  INFO(out);
  REQUIRE(code == 0);
  return out;
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
      for (const char* var : {"PODMEDIC_SLACK_0_URL", "PODMEDIC_SLACK_1_BOT_TOKEN",
                              "PODMEDIC_WEBHOOK_0_SECRET", "PODMEDIC_TOKEN"}) {
        setenv(var, var == std::string("PODMEDIC_SLACK_0_URL") ? "https://hooks.slack.com/x" : "v",
               1);
      }
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
        CHECK(parsed.config.watch.namespaces.size() == 2);
        CHECK(parsed.config.diagnosis.mask_names);
        CHECK(parsed.config.ollama.url == "http://podmedic-ollama:11434");
        CHECK(parsed.config.server.token == "v");
        CHECK(parsed.config.ha.enabled);
        CHECK(parsed.config.ha.lease_name == "podmedic");
        CHECK(parsed.config.ha.lease_namespace == "podmedic");
      }
    }
  }
  // One Role per listed namespace (+ the leader's Role with ha), or one ClusterRole.
  CHECK(roles == (full ? 3 : 1));
  for (const char* k : {"Deployment", "ServiceAccount", "ConfigMap", "Service"})
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
  check_rendered(render({}), false);
  check_rendered(render({"-f", chart() + "/ci/full-values.yaml"}), true);
}

TEST_CASE("helm chart: values.schema.json rejects bad values at install time") {
  auto [code, out] = run({helm(), "template", "x", chart(), "--set", "detect.resolveAfter=soon"});
  CHECK(code != 0);
  CHECK(out.find("resolveAfter") != std::string::npos);
  auto [code1, out1] = run({helm(), "template", "x", chart(), "--set", "replicaCount=2"});
  CHECK(code1 != 0);  // two replicas need ha.enabled
  CHECK(out1.find("replicaCount") != std::string::npos);
  auto [code2, out2] = run({helm(), "template", "x", chart(), "--set", "notifiers.slak=1"});
  CHECK(code2 != 0);
  CHECK(out2.find("slak") != std::string::npos);
}

TEST_CASE("deploy/podmedic.yaml is the chart rendered with its defaults") {
  std::ifstream f(test::source_dir() + "/deploy/podmedic.yaml");
  REQUIRE(f);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string header =
      "# Generated by scripts/render-manifests.sh from helm/podmedic; do not edit.\n";
  INFO("run scripts/render-manifests.sh and commit deploy/podmedic.yaml");
  CHECK(ss.str() == header + render({}));
}
