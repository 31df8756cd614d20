#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "k8s/connection.h"
#include "tests/support.h"

using namespace podmedic::k8s;
namespace fs = std::filesystem;

namespace {
using podmedic::test::TempDir;
}  // namespace

TEST_CASE("server URLs split into scheme host port and base path") {
  ClusterConnection c;
  REQUIRE(parse_server_url("https://10.0.0.1:6443", c).ok());
  CHECK(c.scheme == "https");
  CHECK(c.host == "10.0.0.1");
  CHECK(c.port == "6443");
  REQUIRE(parse_server_url("https://[fd00::1]:443/prefix/", c).ok());
  CHECK(c.host == "fd00::1");
  CHECK(c.base_path == "/prefix");
  REQUIRE(parse_server_url("https://api.example.com", c).ok());
  CHECK(c.port == "443");
  CHECK_FALSE(parse_server_url("10.0.0.1:6443", c).ok());
  CHECK_FALSE(parse_server_url("ftp://x", c).ok());
}

TEST_CASE("kubeconfig: current context CA data token relative files") {
  TempDir dir;
  dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
  dir.write("token.txt", "  file-token\n");
  auto path = dir.write("config", R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: ca.pem
    tls-server-name: kubernetes.default
- name: prod-cluster
  cluster:
    server: https://prod.example.com:443
    certificate-authority-data: )" + base64_encode("PEMDATA") +
                                      R"(
users:
- name: dev-user
  user:
    tokenFile: token.txt
- name: prod-user
  user:
    token: static-token
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: shop}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
)");
  auto dev = load_kubeconfig({path}, "");
  REQUIRE(dev.ok());
  CHECK(dev->context_name == "dev");
  CHECK(dev->host == "127.0.0.1");
  CHECK(dev->ca_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(dev->tls_server_name == "kubernetes.default");
  CHECK(dev->default_namespace == "shop");
  REQUIRE(dev->tokens);
  CHECK(dev->tokens->token() == "file-token");

  auto prod = load_kubeconfig({path}, "prod");
  REQUIRE(prod.ok());
  CHECK(prod->ca_pem == "PEMDATA");
  CHECK(prod->tokens->token() == "static-token");

  auto missing = load_kubeconfig({path}, "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("context \"nope\" not found") != std::string::npos);
}

TEST_CASE("kubeconfig: CA together with insecure-skip-tls-verify is rejected") {
  TempDir dir;
  auto path = dir.write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: true, certificate-authority-data: QUJD}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  auto r = load_kubeconfig({path}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("mutually exclusive") != std::string::npos);
}

TEST_CASE("kubeconfig: merged lists are first-wins") {
  TempDir dir;
  auto a = dir.write(
      "a",
      "current-context: one\nclusters: [{name: c, cluster: {server: \"http://first:1\"}}]\n"
      "contexts: [{name: one, context: {cluster: c}}]\n");
  auto b = dir.write(
      "b", "current-context: two\nclusters: [{name: c, cluster: {server: \"http://second:1\"}}]\n");
  auto r = load_kubeconfig({a, b}, "");
  REQUIRE(r.ok());
  CHECK(r->host == "first");
}

TEST_CASE("token files are re-read after invalidate rotation") {
  TempDir dir;
  auto path = dir.write("token", "one");
  FileTokenSource src(path, std::chrono::hours(1));
  CHECK(src.token() == "one");
  dir.write("token", "two");
  CHECK(src.token() == "one");  // cached
  src.invalidate();
  CHECK(src.token() == "two");
  fs::remove(path);
  src.invalidate();
  CHECK(src.token() == "two");  // a failed re-read keeps the last good token
}

TEST_CASE("exec credential plugins provide a cached token") {
  TempDir dir;
  auto counter = (dir.path / "count").string();
  auto script = dir.write(
      "plugin.sh",
      "#!/bin/sh\necho x >> " + counter +
          "\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
          "\"status\":{\"token\":\"exec-token\",\"expirationTimestamp\":\"2999-01-01T00:00:00Z\"}}'"
          "\n");
  fs::permissions(script, fs::perms::owner_all);
  ExecTokenSource src({script, {}, {}, "", false});
  CHECK(src.token() == "exec-token");
  CHECK(src.token() == "exec-token");
  std::ifstream f(counter);
  std::string all((std::istreambuf_iterator<char>(f)), {});
  CHECK(std::count(all.begin(), all.end(), 'x') == 1);
  src.invalidate();
  CHECK(src.token() == "exec-token");
}

TEST_CASE("in-cluster config reads the service-account files") {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "CA");
  dir.write("namespace", "podmedic");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::10", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto r = load_in_cluster({dir.path.string()});
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  REQUIRE(r.ok());
  CHECK(r->server == "https://[fd00::10]:443");
  CHECK(r->host == "fd00::10");
  CHECK(r->tokens->token() == "sa-token");
  CHECK(r->default_namespace == "podmedic");
  CHECK_FALSE(load_in_cluster({dir.path.string()}).ok());  // env unset: not in cluster
}
