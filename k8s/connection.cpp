#include "k8s/connection.h"

#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/log.h"
#include "core/units.h"

extern char** environ;

namespace podmedic::k8s {
namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{"cannot read " + path};
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::string base64_decode(std::string_view in, bool& ok) {
  std::string clean;
  for (char c : in) {
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  }
  ok = clean.size() % 4 == 0;
  if (!ok) return {};
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) {
    ok = false;
    return {};
  }
  std::size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

FileTokenSource::FileTokenSource(std::string path, std::chrono::steady_clock::duration refresh)
    : path_(std::move(path)), refresh_(refresh) {}

std::string FileTokenSource::token() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (read_at_ == std::chrono::steady_clock::time_point{} || now - read_at_ >= refresh_) {
    auto r = read_file(path_);
    if (r.ok() && !trim(r.value()).empty()) {
      token_ = trim(std::move(r.value()));
    } else if (token_.empty()) {
      log::warn("k8s", "token file unreadable or empty", {{"path", path_}});
    }
    read_at_ = now;  // a failed re-read keeps the old token until the next period
  }
  return token_;
}

void FileTokenSource::invalidate() {
  std::lock_guard lock(mu_);
  read_at_ = {};
}

std::string ExecTokenSource::token() {
  std::lock_guard lock(mu_);
  if (!token_.empty() && std::chrono::system_clock::now() + std::chrono::seconds(10) < expires_) {
    return token_;
  }
  // Run the plugin with KUBERNETES_EXEC_INFO; capture stdout. Runs on the caller's thread: exec
  // plugins are rare and their credentials are cached.
  nlohmann::json info = {{"apiVersion", "client.authentication.k8s.io/v1"},
                         {"kind", "ExecCredential"},
                         {"spec", {{"interactive", false}}}};
  if (spec_.provide_cluster_info) info["spec"]["cluster"] = {{"server", spec_.server}};
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return token_;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (auto& [k, v] : spec_.env) env_strings.push_back(k + "=" + v);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{spec_.command};
  argv_strings.insert(argv_strings.end(), spec_.args.begin(), spec_.args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, spec_.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  std::string output;
  if (rc == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(out_pipe[0], buf, sizeof buf)) > 0 && output.size() < (1 << 20)) {
      output.append(buf, static_cast<std::size_t>(n));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      log::warn("k8s", "exec credential plugin failed", {{"command", spec_.command}});
      output.clear();
    }
  } else {
    log::warn("k8s", "cannot start exec credential plugin", {{"command", spec_.command}});
  }
  close(out_pipe[0]);
  auto j = nlohmann::json::parse(output, nullptr, false);
  if (j.is_object() && j.contains("status") && j["status"].is_object() &&
      j["status"].value("token", "") != "") {
    token_ = j["status"]["token"].get<std::string>();
    std::string exp = j["status"].value("expirationTimestamp", "");
    // Clamp: far-future timestamps would overflow system_clock's nanosecond range.
    auto now = std::chrono::system_clock::now();
    auto year = now + std::chrono::hours(24 * 365);
    auto t = parse_rfc3339(exp);
    expires_ = t > 0 && t < std::chrono::system_clock::to_time_t(year)
                   ? std::chrono::system_clock::from_time_t(t)
                   : year;
  } else if (rc == 0) {
    log::warn("k8s", "exec credential plugin returned no status.token",
              {{"command", spec_.command}});
  }
  return token_;
}

void ExecTokenSource::invalidate() {
  std::lock_guard lock(mu_);
  expires_ = {};
}

Result<Ok> parse_server_url(const std::string& url, ClusterConnection& out) {
  auto pos = url.find("://");
  if (pos == std::string::npos) return Error{"server URL \"" + url + "\" has no scheme"};
  out.scheme = url.substr(0, pos);
  if (out.scheme != "https" && out.scheme != "http") {
    return Error{"server URL \"" + url + "\": scheme must be https or http"};
  }
  std::string rest = url.substr(pos + 3);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  out.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return Error{"server URL \"" + url + "\": bad IPv6 host"};
    out.host = hostport.substr(1, close - 1);
    out.port =
        close + 1 < hostport.size() && hostport[close + 1] == ':' ? hostport.substr(close + 2) : "";
  } else {
    auto colon = hostport.rfind(':');
    out.host = hostport.substr(0, colon);
    out.port = colon == std::string::npos ? "" : hostport.substr(colon + 1);
  }
  if (out.port.empty()) out.port = out.scheme == "https" ? "443" : "80";
  if (out.host.empty()) return Error{"server URL \"" + url + "\" has no host"};
  out.server = url;
  return Ok{};
}

bool in_cluster_available() {
  const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
  return h && *h && p && *p;
}

Result<ClusterConnection> load_in_cluster(const InClusterPaths& paths) {
  if (!in_cluster_available()) {
    return Error{"not in cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set"};
  }
  std::string host = std::getenv("KUBERNETES_SERVICE_HOST");
  std::string port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  ClusterConnection c;
  if (auto r = parse_server_url("https://" + host + ":" + port, c); !r) return r.error();
  auto token_path = paths.dir + "/token";
  auto tok = read_file(token_path);
  if (!tok || trim(tok.value()).empty()) {
    return Error{"in-cluster token " + token_path + " is missing or empty"};
  }
  c.tokens = std::make_shared<FileTokenSource>(token_path);
  auto ca = read_file(paths.dir + "/ca.crt");
  if (!ca) return Error{"in-cluster CA " + paths.dir + "/ca.crt is missing"};
  c.ca_pem = ca.value();
  if (auto ns = read_file(paths.dir + "/namespace"); ns) c.default_namespace = trim(ns.value());
  c.context_name = "in-cluster";
  return c;
}

namespace {

// Reads "X" or "X-data" (base64) for certificate-like fields, resolving relative paths.
Result<std::string> file_or_data(const YAML::Node& n, const std::string& key, const fs::path& dir) {
  if (auto d = n[key + "-data"]; d && d.IsScalar()) {
    bool ok = false;
    auto s = base64_decode(d.as<std::string>(), ok);
    if (!ok) return Error{key + "-data is not valid base64"};
    return s;
  }
  if (auto f = n[key]; f && f.IsScalar()) {
    fs::path p = f.as<std::string>();
    if (p.is_relative()) p = dir / p;
    auto r = read_file(p.string());
    if (!r) return Error{key + ": " + r.error().message};
    return r;
  }
  return std::string();
}

struct Named {
  YAML::Node node;
  fs::path dir;
};

}  // namespace

Result<ClusterConnection> load_kubeconfig(const std::vector<std::string>& paths,
                                          const std::string& context) {
  std::map<std::string, Named> clusters, users, contexts;
  std::string current;
  bool any = false;
  for (const auto& path : paths) {
    if (path.empty() || !fs::exists(path)) continue;
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
      return Error{"kubeconfig " + path + ": " + e.what()};
    }
    any = true;
    fs::path dir = fs::absolute(path).parent_path();
    auto collect = [&](const char* list, const char* inner, std::map<std::string, Named>& into) {
      if (auto l = root[list]; l && l.IsSequence()) {
        for (const auto& item : l) {
          if (!item["name"]) continue;
          into.emplace(item["name"].as<std::string>(), Named{item[inner], dir});  // first wins
        }
      }
    };
    collect("clusters", "cluster", clusters);
    collect("users", "user", users);
    collect("contexts", "context", contexts);
    if (current.empty() && root["current-context"] && root["current-context"].IsScalar()) {
      current = root["current-context"].as<std::string>();
    }
  }
  if (!any)
    return Error{"no kubeconfig found (looked at: " + [&] {
      std::string s;
      for (auto& p : paths) s += (s.empty() ? "" : ", ") + p;
      return s;
    }() + ")"};
  std::string ctx_name = context.empty() ? current : context;
  if (ctx_name.empty()) return Error{"kubeconfig has no current-context; set cluster.context"};
  auto ctx = contexts.find(ctx_name);
  if (ctx == contexts.end()) return Error{"kubeconfig context \"" + ctx_name + "\" not found"};
  const auto& cn = ctx->second.node;
  std::string cluster_name = cn["cluster"] ? cn["cluster"].as<std::string>() : "";
  std::string user_name = cn["user"] ? cn["user"].as<std::string>() : "";
  auto cl = clusters.find(cluster_name);
  if (cl == clusters.end()) return Error{"kubeconfig cluster \"" + cluster_name + "\" not found"};

  ClusterConnection c;
  c.context_name = ctx_name;
  if (cn["namespace"]) c.default_namespace = cn["namespace"].as<std::string>();
  const auto& cln = cl->second.node;
  if (!cln["server"]) return Error{"kubeconfig cluster \"" + cluster_name + "\" has no server"};
  if (auto r = parse_server_url(cln["server"].as<std::string>(), c); !r) return r.error();
  c.insecure_skip_tls_verify =
      cln["insecure-skip-tls-verify"] && cln["insecure-skip-tls-verify"].as<bool>();
  if (cln["tls-server-name"]) c.tls_server_name = cln["tls-server-name"].as<std::string>();
  auto ca = file_or_data(cln, "certificate-authority", cl->second.dir);
  if (!ca) return Error{"kubeconfig cluster \"" + cluster_name + "\": " + ca.error().message};
  c.ca_pem = ca.value();
  if (c.insecure_skip_tls_verify && !c.ca_pem.empty()) {
    return Error{"kubeconfig cluster \"" + cluster_name +
                 "\": certificate-authority and insecure-skip-tls-verify are mutually exclusive"};
  }
  if (auto u = users.find(user_name); u != users.end() && u->second.node) {
    const auto& un = u->second.node;
    auto cert = file_or_data(un, "client-certificate", u->second.dir);
    auto key = file_or_data(un, "client-key", u->second.dir);
    if (!cert) return Error{"kubeconfig user \"" + user_name + "\": " + cert.error().message};
    if (!key) return Error{"kubeconfig user \"" + user_name + "\": " + key.error().message};
    c.client_cert_pem = cert.value();
    c.client_key_pem = key.value();
    if (un["token"] && un["token"].IsScalar()) {
      c.tokens = std::make_shared<StaticTokenSource>(un["token"].as<std::string>());
    } else if (un["tokenFile"] && un["tokenFile"].IsScalar()) {
      fs::path p = un["tokenFile"].as<std::string>();
      if (p.is_relative()) p = u->second.dir / p;
      c.tokens = std::make_shared<FileTokenSource>(p.string());
    } else if (un["exec"] && un["exec"].IsMap()) {
      const auto& ex = un["exec"];
      ExecTokenSource::Spec spec;
      if (!ex["command"])
        return Error{"kubeconfig user \"" + user_name + "\": exec has no command"};
      spec.command = ex["command"].as<std::string>();
      if (ex["args"] && ex["args"].IsSequence()) {
        for (const auto& a : ex["args"]) spec.args.push_back(a.as<std::string>());
      }
      if (ex["env"] && ex["env"].IsSequence()) {
        for (const auto& e : ex["env"]) {
          spec.env.emplace_back(e["name"].as<std::string>(), e["value"].as<std::string>());
        }
      }
      spec.provide_cluster_info = ex["provideClusterInfo"] && ex["provideClusterInfo"].as<bool>();
      spec.server = c.server;
      c.tokens = std::make_shared<ExecTokenSource>(std::move(spec));
    }
  } else if (!user_name.empty()) {
    return Error{"kubeconfig user \"" + user_name + "\" not found"};
  }
  return c;
}

Result<ClusterConnection> resolve_connection(const std::string& kubeconfig_path,
                                             const std::string& context) {
  if (!kubeconfig_path.empty()) {
    if (!fs::exists(kubeconfig_path))
      return Error{"kubeconfig " + kubeconfig_path + " does not exist"};
    return load_kubeconfig({kubeconfig_path}, context);
  }
  if (in_cluster_available()) return load_in_cluster();
  std::vector<std::string> paths;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) paths.push_back(item);
    }
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    paths.push_back(std::string(home) + "/.kube/config");
  }
  return load_kubeconfig(paths, context);
}

}  // namespace podmedic::k8s
