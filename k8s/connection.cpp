#include "k8s/connection.h"

#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/log.h"
#include "core/parse.h"
#include "core/text.h"
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

namespace {

// Runs the plugin and returns its stdout, bounded and within the deadline. The child's stdout
// is a close-on-exec pipe we drain with poll(); a plugin that talks too much or too long is
// killed (so it cannot block on a full pipe) and the attempt is an error.
struct ExecOutcome {
  std::string output;
  std::optional<PeerFault> fault;
  std::string error;
};

ExecOutcome run_plugin(const ExecTokenSource::Spec& spec, const std::string& exec_info) {
  ExecOutcome out;
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    out.fault = PeerFault::kTransport;
    out.error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return out;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + exec_info);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{spec.command};
  argv_strings.insert(argv_strings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  // Its own process group, so a kill reaches whatever the plugin started too.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, spec.command.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    out.fault = PeerFault::kTransport;
    out.error = std::string("cannot start: ") + std::strerror(rc);
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  char buf[16 * 1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      out.fault = PeerFault::kTimeout;
      out.error = "no answer within " + std::to_string(spec.timeout.count()) + " ms";
      break;
    }
    pollfd pfd{out_pipe[0], POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) {
      out.fault = PeerFault::kTransport;
      out.error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (pr == 0) continue;
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF (or a read error: what we have is judged below)
    if (out.output.size() + static_cast<std::size_t>(n) > spec.max_output) {
      out.fault = PeerFault::kOversized;
      out.error = "output exceeds " + std::to_string(spec.max_output) + " bytes";
      break;
    }
    out.output.append(buf, static_cast<std::size_t>(n));
  }
  close(out_pipe[0]);
  // A plugin may close stdout and linger: it gets until the same deadline to exit.
  int status = 0;
  while (!out.fault) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      out.fault = PeerFault::kTimeout;
      out.error = "did not exit within " + std::to_string(spec.timeout.count()) + " ms";
      break;
    }
    poll(nullptr, 0, 5);
  }
  if (out.fault) {
    kill(-pid, SIGKILL);  // it may be blocked writing, or hung; its children go too
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!out.fault && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    out.fault = PeerFault::kStatus;
    out.error = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                  : "killed by a signal";
  }
  return out;
}

}  // namespace

Result<ExecTokenSource::Credential> ExecTokenSource::parse_credential(std::string_view output) {
  auto j = parse::json_text(output, "exec credential");
  if (!j) return Error{j.error().message};
  const auto* status = parse::get_object(*j, "status");
  if (!status) return parse::field_error(*j, "status", "an object");
  auto token = parse::get_string(*status, "token");
  if (!token) {
    const auto* v = parse::member(*status, "token");
    return Error{std::string("field \"status.token\": expected a string, got ") +
                 (v ? parse::type_name(*v) : "nothing")};
  }
  if (token->empty()) return Error{"field \"status.token\" is empty"};
  Credential c;
  c.token = std::move(*token);
  if (const auto* exp = parse::member(*status, "expirationTimestamp"); exp && !exp->is_null()) {
    auto text = parse::get_string(*status, "expirationTimestamp");
    if (!text)
      return Error{std::string("field \"status.expirationTimestamp\": expected a string, got ") +
                   parse::type_name(*exp)};
    c.expires_unix = parse_rfc3339(*text);
    if (c.expires_unix <= 0)
      return Error{"field \"status.expirationTimestamp\": not an RFC 3339 time"};
  }
  return c;
}

std::string ExecTokenSource::token() {
  std::lock_guard lock(mu_);
  if (!token_.empty() && std::chrono::system_clock::now() + std::chrono::seconds(10) < expires_) {
    return token_;
  }
  // Run the plugin with KUBERNETES_EXEC_INFO; capture stdout. Runs on the caller's thread: exec
  // plugins are rare and their credentials are cached.
  parse::json info = {{"apiVersion", "client.authentication.k8s.io/v1"},
                      {"kind", "ExecCredential"},
                      {"spec", {{"interactive", false}}}};
  if (spec_.provide_cluster_info) info["spec"]["cluster"] = {{"server", spec_.server}};
  auto run = run_plugin(spec_, parse::dump(info));
  Result<Credential> cred = Error{run.error};
  if (!run.fault) {
    cred = parse_credential(run.output);
    if (!cred) {
      run.fault =
          parse::json_text(run.output, "").ok() ? PeerFault::kWrongType : PeerFault::kMalformed;
    }
  }
  if (!cred) {
    last_error_ = "exec credential plugin " + spec_.command + ": " + cred.error().message;
    if (peer_errors_) peer_errors_->count(Peer::kExec, *run.fault);
    logs_.write(log::Level::kWarn, "k8s", "exec-" + std::string(fault_label(*run.fault)),
                "exec credential plugin failed; keeping the previous token",
                {{"command", spec_.command}, {"error", cred.error().message}});
    return token_;  // the previous token, if any: the server decides whether it still works
  }
  last_error_.clear();
  token_ = std::move(cred->token);
  // Clamp: far-future timestamps would overflow system_clock's nanosecond range.
  auto now = std::chrono::system_clock::now();
  auto year = now + std::chrono::hours(24 * 365);
  auto t = cred->expires_unix;
  expires_ = t > 0 && t < std::chrono::system_clock::to_time_t(year)
                 ? std::chrono::system_clock::from_time_t(t)
                 : year;
  return token_;
}

std::string ExecTokenSource::last_error() {
  std::lock_guard lock(mu_);
  return last_error_;
}

void ExecTokenSource::set_peer_errors(PeerErrors* errors) {
  std::lock_guard lock(mu_);
  peer_errors_ = errors;
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

// A map's member, or an undefined node when `n` is not a map. yaml-cpp's own operator[] throws
// on a scalar (and on a missing node's child), so kubeconfig nodes are only read through this.
YAML::Node child(const YAML::Node& n, const char* key) {
  if (!n.IsDefined() || !n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return n[key];  // const overload: a missing key gives an undefined node
}

bool said(const YAML::Node& n) {
  return n.IsDefined() && !n.IsNull();
}

// Optional scalar fields of a kubeconfig object: absent or null → nullopt; any other non-scalar
// is an error naming `where` (file and object) and the key.
Result<std::optional<std::string>> opt_string(const YAML::Node& obj, const char* key,
                                              const std::string& where) {
  auto n = child(obj, key);
  if (!said(n)) return std::optional<std::string>();
  if (auto s = parse::yaml_string(n)) return std::optional<std::string>(std::move(*s));
  return Error{where + ": " + key + " must be a string"};
}

Result<bool> opt_bool(const YAML::Node& obj, const char* key, const std::string& where) {
  auto n = child(obj, key);
  if (!said(n)) return false;
  if (auto b = parse::yaml_bool(n)) return *b;
  auto text = parse::yaml_string(n);
  return Error{where + ": " + key + " must be true or false" +
               (text ? ", not \"" + std::string(text::cut_utf8(*text, 32)) + "\"" : "")};
}

// Reads "X" or "X-data" (base64) for certificate-like fields, resolving relative paths.
Result<std::string> file_or_data(const YAML::Node& n, const std::string& key, const fs::path& dir,
                                 const std::string& where) {
  auto data = opt_string(n, (key + "-data").c_str(), where);
  if (!data) return data.error();
  if (*data) {
    bool ok = false;
    auto s = base64_decode(**data, ok);
    if (!ok) return Error{where + ": " + key + "-data is not valid base64"};
    return s;
  }
  auto file = opt_string(n, key.c_str(), where);
  if (!file) return file.error();
  if (*file) {
    fs::path p = **file;
    if (p.is_relative()) p = dir / p;
    auto r = read_file(p.string());
    if (!r) return Error{where + ": " + key + ": " + r.error().message};
    return r;
  }
  return std::string();
}

struct Named {
  YAML::Node node;
  fs::path dir;
  std::string where;  // "kubeconfig /path: cluster \"name\"" for errors
};

}  // namespace

Result<ClusterConnection> load_kubeconfig(const std::vector<std::string>& paths,
                                          const std::string& context) {
  std::map<std::string, Named> clusters, users, contexts;
  std::string current;
  bool any = false;
  for (const auto& path : paths) {
    std::error_code ec;
    if (path.empty() || !fs::exists(path, ec)) continue;
    auto loaded = parse::yaml_file(path);
    if (!loaded) return Error{"kubeconfig " + loaded.error().message};
    const YAML::Node root = loaded.value();
    if (said(root) && !root.IsMap()) return Error{"kubeconfig " + path + ": not a YAML mapping"};
    any = true;
    fs::path dir = fs::absolute(path, ec).parent_path();
    if (ec) dir = fs::path(path).parent_path();
    const std::string file = "kubeconfig " + path;
    auto collect = [&](const char* list, const char* inner,
                       std::map<std::string, Named>& into) -> Result<Ok> {
      auto l = child(root, list);
      if (!said(l)) return Ok{};
      if (!l.IsSequence()) return Error{file + ": " + list + " must be a list"};
      for (const auto& item : l) {
        auto name = opt_string(item, "name", file + ": " + list);
        if (!name) return name.error();
        if (!*name) continue;
        std::string where = file + ": " + inner + " \"" + **name + "\"";
        into.emplace(**name, Named{child(item, inner), dir, where});  // first wins
      }
      return Ok{};
    };
    for (auto r : {collect("clusters", "cluster", clusters), collect("users", "user", users),
                   collect("contexts", "context", contexts)}) {
      if (!r) return r.error();
    }
    auto cur = opt_string(root, "current-context", file);
    if (!cur) return cur.error();
    if (current.empty() && *cur) current = **cur;
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
  const auto& cwhere = ctx->second.where;
  auto cluster_name = opt_string(cn, "cluster", cwhere);
  if (!cluster_name) return cluster_name.error();
  auto user_name_r = opt_string(cn, "user", cwhere);
  if (!user_name_r) return user_name_r.error();
  std::string user_name = user_name_r->value_or("");
  auto cl = clusters.find(cluster_name->value_or(""));
  if (cl == clusters.end())
    return Error{"kubeconfig cluster \"" + cluster_name->value_or("") + "\" not found"};

  ClusterConnection c;
  c.context_name = ctx_name;
  auto ns = opt_string(cn, "namespace", cwhere);
  if (!ns) return ns.error();
  c.default_namespace = ns->value_or("");
  const auto& cln = cl->second.node;
  const auto& where = cl->second.where;
  auto server = opt_string(cln, "server", where);
  if (!server) return server.error();
  if (!*server) return Error{where + " has no server"};
  if (auto r = parse_server_url(**server, c); !r) return Error{where + ": " + r.error().message};
  auto insecure = opt_bool(cln, "insecure-skip-tls-verify", where);
  if (!insecure) return insecure.error();
  c.insecure_skip_tls_verify = *insecure;
  auto sni = opt_string(cln, "tls-server-name", where);
  if (!sni) return sni.error();
  c.tls_server_name = sni->value_or("");
  auto ca = file_or_data(cln, "certificate-authority", cl->second.dir, where);
  if (!ca) return ca.error();
  c.ca_pem = ca.value();
  if (c.insecure_skip_tls_verify && !c.ca_pem.empty()) {
    return Error{where +
                 ": certificate-authority and insecure-skip-tls-verify are mutually exclusive"};
  }
  if (auto u = users.find(user_name); u != users.end()) {
    const auto& un = u->second.node;
    const auto& uwhere = u->second.where;
    auto cert = file_or_data(un, "client-certificate", u->second.dir, uwhere);
    auto key = file_or_data(un, "client-key", u->second.dir, uwhere);
    if (!cert) return cert.error();
    if (!key) return key.error();
    c.client_cert_pem = cert.value();
    c.client_key_pem = key.value();
    auto token = opt_string(un, "token", uwhere);
    if (!token) return token.error();
    auto token_file = opt_string(un, "tokenFile", uwhere);
    if (!token_file) return token_file.error();
    const auto ex = child(un, "exec");
    if (*token) {
      c.tokens = std::make_shared<StaticTokenSource>(**token);
    } else if (*token_file) {
      fs::path p = **token_file;
      if (p.is_relative()) p = u->second.dir / p;
      c.tokens = std::make_shared<FileTokenSource>(p.string());
    } else if (said(ex)) {
      const std::string exwhere = uwhere + ": exec";
      if (!ex.IsMap()) return Error{exwhere + " must be a mapping"};
      ExecTokenSource::Spec spec;
      auto command = opt_string(ex, "command", exwhere);
      if (!command) return command.error();
      if (!*command || (*command)->empty()) return Error{exwhere + " has no command"};
      spec.command = **command;
      if (auto args = child(ex, "args"); said(args)) {
        if (!args.IsSequence()) return Error{exwhere + ": args must be a list of strings"};
        for (const auto& a : args) {
          auto s = parse::yaml_string(a);
          if (!s) return Error{exwhere + ": args must be a list of strings"};
          spec.args.push_back(std::move(*s));
        }
      }
      if (auto env = child(ex, "env"); said(env)) {
        if (!env.IsSequence()) return Error{exwhere + ": env must be a list of {name, value}"};
        for (const auto& e : env) {
          auto name = parse::yaml_string(child(e, "name"));
          auto value = parse::yaml_string(child(e, "value"));
          if (!name || !value || name->empty())
            return Error{exwhere + ": env entries need a string name and value"};
          spec.env.emplace_back(std::move(*name), std::move(*value));
        }
      }
      auto provide = opt_bool(ex, "provideClusterInfo", exwhere);
      if (!provide) return provide.error();
      spec.provide_cluster_info = *provide;
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
    std::error_code ec;
    if (!fs::exists(kubeconfig_path, ec))
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
