#pragma once
// Where and how to reach the API server: resolved from in-cluster service-account files or a
// kubeconfig (current or named context). Bearer tokens come from a TokenSource that re-reads
// token files at least every minute and on demand after a 401 (bound service-account tokens
// rotate). TokenSource is thread-safe; ClusterConnection is plain data.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/peer_errors.h"
#include "core/result.h"

namespace podmedic::k8s {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The current token, or empty when none is configured.
  virtual std::string token() = 0;
  // Called after a 401: the next token() re-reads (file) or re-runs (exec) its source.
  virtual void invalidate() = 0;
  // Where to count an unusable answer of the source's peer (the exec plugin); may be null.
  virtual void set_peer_errors(PeerErrors*) {}
};

// A fixed token from the kubeconfig.
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  std::string token() override { return token_; }
  void invalidate() override {}

 private:
  std::string token_;
};

// A token file (in-cluster or kubeconfig tokenFile), cached for `refresh` (client-go: ~1 min).
// A failed re-read keeps the last good token.
class FileTokenSource final : public TokenSource {
 public:
  explicit FileTokenSource(std::string path,
                           std::chrono::steady_clock::duration refresh = std::chrono::seconds(50));
  std::string token() override;
  void invalidate() override;

 private:
  std::string path_;
  std::chrono::steady_clock::duration refresh_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point read_at_{};
};

// client.authentication.k8s.io/v1 exec plugin; the credential is cached until it expires. The
// plugin is a peer: its stdout is bounded (`max_output`), it must answer within `timeout` (else
// it is killed), and its JSON is read field by field. A failed run keeps the previous token,
// logs (rate-limited) an error naming the field, and counts podmedic_peer_errors_total{peer=exec}.
class ExecTokenSource final : public TokenSource {
 public:
  struct Spec {
    std::string command;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    std::string server;  // for provideClusterInfo
    bool provide_cluster_info = false;
    std::chrono::milliseconds timeout{30'000};
    std::size_t max_output = 1u << 20;
  };
  struct Credential {
    std::string token;
    std::int64_t expires_unix = 0;  // 0: no expirationTimestamp
  };
  explicit ExecTokenSource(Spec spec) : spec_(std::move(spec)) {}
  std::string token() override;
  void invalidate() override;
  void set_peer_errors(PeerErrors* errors) override;
  // Why the last run gave no token (naming the field: status.token expected a string, got an
  // integer); empty after a success.
  std::string last_error();

  // An ExecCredential's status.token and status.expirationTimestamp; errors name the field.
  static Result<Credential> parse_credential(std::string_view output);

 private:
  Spec spec_;
  std::mutex mu_;
  std::string token_;
  std::string last_error_;
  std::chrono::system_clock::time_point expires_{};
  PeerErrors* peer_errors_ = nullptr;
  log::RateLimited logs_;
};

struct ClusterConnection {
  std::string server;  // as configured, e.g. https://10.0.0.1:6443
  std::string scheme;  // http | https
  std::string host;    // without IPv6 brackets
  std::string port;
  std::string base_path;  // path prefix of the server URL, usually empty
  std::string ca_pem;     // PEM bundle to verify the server; empty: system roots
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // SNI / verification name override
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string default_namespace;
  std::string context_name;             // for logs
  std::shared_ptr<TokenSource> tokens;  // may be null: no bearer auth
};

struct InClusterPaths {
  std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// Splits scheme://host:port/path into the connection's fields.
Result<Ok> parse_server_url(const std::string& url, ClusterConnection& out);

// In-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service-account files.
Result<ClusterConnection> load_in_cluster(const InClusterPaths& paths = {});
bool in_cluster_available();

// kubeconfig: `paths` are merged first-wins (as $KUBECONFIG's list); `context` empty = current.
Result<ClusterConnection> load_kubeconfig(const std::vector<std::string>& paths,
                                          const std::string& context);

// The resolution order of PRODUCT.md: explicit kubeconfig path; else in-cluster; else $KUBECONFIG;
// else ~/.kube/config.
Result<ClusterConnection> resolve_connection(const std::string& kubeconfig_path,
                                             const std::string& context);

std::string base64_decode(std::string_view in, bool& ok);
std::string base64_encode(std::string_view in);

}  // namespace podmedic::k8s
