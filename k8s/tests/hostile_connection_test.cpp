// kubeconfigs with wrong types and bad YAML, and exec credential plugins that misbehave (a
// number for a token, garbage, 10 MB of output, a non-zero exit, a hang): each is a clear error
// naming the field and the file, counted under peer="exec", never an exception or a hang.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <prometheus/registry.h>

#include "core/peer_errors.h"
#include "core/text.h"
#include "k8s/connection.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::k8s;
namespace fs = std::filesystem;

namespace {

using podmedic::test::TempDir;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

const char* kGoodCredential =
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
    R"("status":{"token":"exec-token","expirationTimestamp":"2999-01-01T00:00:00Z"}})";

}  // namespace

TEST_CASE("kubeconfig: insecure-skip-tls-verify: maybe is an error naming the key and file") {
  TempDir dir;
  auto path = dir.write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: "maybe"}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  auto r = load_kubeconfig({path}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "insecure-skip-tls-verify"));
  CHECK(contains(r.error().message, path));
  CHECK(contains(r.error().message, "maybe"));
}

TEST_CASE("kubeconfig: a long non-boolean is quoted cut to 32 bytes, never mid-character") {
  TempDir dir;
  std::string value = "n";  // 1 + 20 x 2 bytes: a byte cut at 32 ends inside the 16th "é"
  for (int i = 0; i < 20; ++i) value += "\xC3\xA9";
  auto path = dir.write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: ")" +
                                      value +
                                      R"("}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  auto r = load_kubeconfig({path}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, ", not \"" + value.substr(0, 31) + "\""));
  CHECK(text::is_valid_utf8(r.error().message));
}

TEST_CASE("kubeconfig: wrong types anywhere are errors naming the key, never exceptions") {
  TempDir dir;
  struct Row {
    std::string yaml;
    std::string mentions;
  };
  const std::string ctx = "contexts: [{name: x, context: {cluster: c, user: u}}]\n";
  const std::string cluster = "clusters: [{name: c, cluster: {server: \"https://h:1\"}}]\n";
  const std::string user = "users: [{name: u, user: {}}]\n";
  for (const auto& row : {
           Row{"current-context: [a, b]\n" + cluster + user + ctx, "current-context"},
           Row{"current-context: x\nclusters: hello\n" + user + ctx, "clusters"},
           Row{"current-context: x\nclusters: [just-a-string]\n" + user + ctx, "not found"},
           Row{"current-context: x\nclusters: [{name: {a: 1}, cluster: {}}]\n" + user + ctx,
               "name"},
           Row{"current-context: x\nclusters: [{name: c, cluster: scalar}]\n" + user + ctx,
               "has no server"},
           Row{"current-context: x\nclusters: [{name: c, cluster: {server: [1]}}]\n" + user + ctx,
               "server"},
           Row{"current-context: x\nclusters: [{name: c, cluster: {server: \"https://h:1\", "
               "certificate-authority-data: {x: 1}}}]\n" +
                   user + ctx,
               "certificate-authority-data"},
           Row{"current-context: x\n" + cluster + user +
                   "contexts: [{name: x, context: {cluster: [c], user: u}}]\n",
               "cluster"},
           Row{"current-context: x\n" + cluster + "users: [{name: u, user: {token: {a: b}}}]\n" +
                   ctx,
               "token"},
           Row{"current-context: x\n" + cluster +
                   "users: [{name: u, user: {exec: {command: [a]}}}]\n" + ctx,
               "command"},
           Row{"current-context: x\n" + cluster +
                   "users: [{name: u, user: {exec: {command: a, args: {x: 1}}}}]\n" + ctx,
               "args"},
           Row{"current-context: x\n" + cluster +
                   "users: [{name: u, user: {exec: {command: a, env: [{name: [1]}]}}}]\n" + ctx,
               "env"},
           Row{"current-context: x\n" + cluster +
                   "users: [{name: u, user: {exec: {command: a, provideClusterInfo: "
                   "sometimes}}}]\n" +
                   ctx,
               "provideClusterInfo"},
           Row{"current-context: x\n" + cluster + "users: [{name: u, user: {exec: 5}}]\n" + ctx,
               "exec"},
           Row{"- just\n- a list\n", "mapping"},
           Row{"current-context: x\nclusters: [{name: c\n  bad: [indent\n", "invalid YAML"},
           Row{"\t\x01\xff: : :\n", "kubeconfig"},
       }) {
    INFO(row.yaml);
    auto path = dir.write("config", row.yaml);
    auto r = load_kubeconfig({path}, "");
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error().message, row.mentions));
  }
}

TEST_CASE("kubeconfig: a well-formed exec user still loads") {
  TempDir dir;
  auto path = dir.write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: yes}}]
users: [{name: u, user: {exec: {command: plugin, args: [a, b], env: [{name: K, value: V}], provideClusterInfo: true}}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
)");
  auto r = load_kubeconfig({path}, "");
  REQUIRE(r.ok());
  CHECK(r->insecure_skip_tls_verify);
  CHECK(r->default_namespace == "ns");
  CHECK(r->tokens != nullptr);
}

TEST_CASE("exec credential: wrong types name the field") {
  struct Row {
    const char* output;
    const char* mentions;
  };
  for (auto row : {
           Row{R"({"status":{"token":5}})", "status.token\": expected a string, got an integer"},
           Row{R"({"status":{"token":null}})", "status.token"},
           Row{R"({"status":{"token":""}})", "status.token\" is empty"},
           Row{R"({"status":"x"})", "status"},
           Row{R"({"kind":"ExecCredential"})", "status"},
           Row{R"([1])", "status"},
           Row{R"({"status":{"token":"t","expirationTimestamp":7}})", "expirationTimestamp"},
           Row{R"({"status":{"token":"t","expirationTimestamp":"tomorrow"}})",
               "expirationTimestamp"},
           Row{"not json", "exec credential"},
           Row{"", "exec credential"},
       }) {
    INFO(row.output);
    auto r = ExecTokenSource::parse_credential(row.output);
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error().message, row.mentions));
  }
  auto ok = ExecTokenSource::parse_credential(kGoodCredential);
  REQUIRE(ok.ok());
  CHECK(ok->token == "exec-token");
  CHECK(ok->expires_unix > 0);
}

TEST_CASE("exec credential plugins that misbehave give no token, are counted, and never abort") {
  TempDir dir;
  prometheus::Registry registry;
  PeerErrors errors(registry);
  struct Row {
    const char* name;
    std::string body;
    PeerFault fault;
    const char* mentions;
  };
  for (const auto& row : {
           Row{"number", R"(echo '{"status":{"token":5}}')", PeerFault::kWrongType, "status.token"},
           Row{"garbage", "echo 'this is not json'", PeerFault::kMalformed, "exec credential"},
           Row{"huge", "head -c 10485760 /dev/zero | tr '\\0' 'x'", PeerFault::kOversized,
               "exceeds"},
           Row{"huge-then-sleep", "head -c 3000000 /dev/zero; sleep 30", PeerFault::kOversized,
               "exceeds"},
           Row{"exit", std::string("echo '") + kGoodCredential + "'; exit 3", PeerFault::kStatus,
               "status 3"},
           Row{"hang", "sleep 30", PeerFault::kTimeout, "no answer"},
           Row{"linger", std::string("echo '") + kGoodCredential + "'; exec >&-; sleep 30",
               PeerFault::kTimeout, "did not exit"},
       }) {
    INFO(row.name);
    auto script = dir.script(row.name, row.body);
    ExecTokenSource::Spec spec{script, {}, {}, "", false};
    spec.timeout = std::chrono::milliseconds(500);
    ExecTokenSource src(spec);
    src.set_peer_errors(&errors);
    double before = errors.value(Peer::kExec, row.fault);
    auto started = std::chrono::steady_clock::now();
    CHECK(src.token().empty());
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    CHECK(errors.value(Peer::kExec, row.fault) == before + 1);
    CHECK(contains(src.last_error(), row.mentions));
  }
  // A plugin that cannot be started at all.
  ExecTokenSource missing({(dir.path / "does-not-exist").string(), {}, {}, "", false});
  missing.set_peer_errors(&errors);
  CHECK(missing.token().empty());
  CHECK(errors.value(Peer::kExec, PeerFault::kTransport) == 1);
}

TEST_CASE("exec credential: a failed refresh keeps the previous token") {
  TempDir dir;
  auto mode = dir.write("mode", "good");
  auto script = dir.script("plugin", "if [ \"$(cat " + mode + ")\" = good ]; then echo '" +
                                         kGoodCredential + "'; else echo '{\"status\":[]}'; fi");
  ExecTokenSource src({script, {}, {}, "", false});
  CHECK(src.token() == "exec-token");
  dir.write("mode", "bad");
  src.invalidate();
  CHECK(src.token() == "exec-token");
  CHECK(contains(src.last_error(), "status"));
}
