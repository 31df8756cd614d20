#include "app/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "core/parse.h"
#include "core/units.h"
#include "diagnosis/redact.h"

namespace podmedic::app {

std::string expand_env(const std::string& in, std::vector<std::string>* unset) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '{') {
      auto close = in.find('}', i + 2);
      if (close != std::string::npos) {
        std::string expr = in.substr(i + 2, close - i - 2);
        std::string name = expr, fallback;
        bool has_default = false;
        if (auto p = expr.find(":-"); p != std::string::npos) {
          name = expr.substr(0, p);
          fallback = expr.substr(p + 2);
          has_default = true;
        }
        const char* v = std::getenv(name.c_str());
        if (v && *v) {
          out += v;
        } else if (has_default) {
          out += fallback;
        } else if (unset) {
          unset->push_back(name);
        }
        i = close + 1;
        continue;
      }
    }
    out += in[i++];
  }
  return out;
}

namespace {

// One declared key: its doc and how to read it. Maps nest; lists of maps repeat a schema.
struct Key;
using Schema = std::vector<Key>;
struct Ctx {
  std::vector<std::string>& errors;
  void error(const std::string& path, const std::string& msg) {
    errors.push_back(path + ": " + msg);
  }
};
struct Key {
  std::string name;
  std::string type;
  std::string default_text;
  std::string doc;
  std::function<void(const YAML::Node&, const std::string&, Ctx&)> read;
  std::function<Schema()> children;  // for documentation of nested maps/lists
};

std::string where(const YAML::Node& n) {
  auto m = n.Mark();
  if (m.line < 0) return "";
  return " (line " + std::to_string(m.line + 1) + ")";
}

// Reads a scalar with env expansion; reports non-scalars.
bool scalar(const YAML::Node& n, const std::string& path, Ctx& ctx, std::string& out) {
  if (n.IsNull()) {
    out.clear();
    return true;
  }
  if (!n.IsScalar()) {
    ctx.error(path, "expected a single value" + where(n));
    return false;
  }
  std::vector<std::string> unset;
  out = expand_env(n.Scalar(), &unset);
  (void)unset;  // unset variables become empty; required-value checks report them
  return true;
}

void read_map(const YAML::Node& n, const std::string& path, Ctx& ctx, const Schema& schema) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    ctx.error(path.empty() ? "(top level)" : path, "expected a mapping of keys" + where(n));
    return;
  }
  for (const auto& kv : n) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    std::string child = path.empty() ? key : path + "." + key;
    auto it =
        std::find_if(schema.begin(), schema.end(), [&](const Key& k) { return k.name == key; });
    if (it == schema.end()) {
      std::string known;
      for (const auto& k : schema) known += (known.empty() ? "" : ", ") + k.name;
      ctx.error(child, "unknown key" + where(kv.first) + "; known keys here: " + known);
      continue;
    }
    it->read(kv.second, child, ctx);
  }
}

Key str(std::string name, std::string* out, std::string doc) {
  std::string def = *out;
  return {name,
          "string",
          def,
          doc,
          [out](const YAML::Node& n, const std::string& p, Ctx& c) { scalar(n, p, c, *out); },
          {}};
}

Key boolean(std::string name, bool* out, std::string doc) {
  return {name,
          "bool",
          *out ? "true" : "false",
          doc,
          [out](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            if (s == "true" || s == "yes" || s == "on")
              *out = true;
            else if (s == "false" || s == "no" || s == "off")
              *out = false;
            else
              c.error(p, "expected true or false, got \"" + s + "\"");
          },
          {}};
}

Key duration(std::string name, milliseconds* out, std::string doc, bool allow_zero) {
  return {name,
          "duration",
          format_duration(*out),
          doc,
          [out, allow_zero](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            auto d = parse_duration(s);
            if (!d.ok()) return c.error(p, d.error().message);
            if (!allow_zero && d.value().count() == 0) return c.error(p, "must be greater than 0");
            *out = d.value();
          },
          {}};
}

Key integer(std::string name, int* out, std::string doc, int min, int max) {
  return {name,
          "integer",
          std::to_string(*out),
          doc,
          [out, min, max](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            auto v = parse::integer<long>(s);
            if (!v) {
              // Digits that do not fit a long are out of range, not malformed.
              bool digits =
                  !s.empty() && std::all_of(s.begin() + (s[0] == '-'), s.end(), ::isdigit);
              if (!digits) return c.error(p, "expected an integer, got \"" + s + "\"" + where(n));
              v = s[0] == '-' ? std::numeric_limits<long>::min() : std::numeric_limits<long>::max();
            }
            if (*v < min || *v > max)
              return c.error(
                  p, "must be between " + std::to_string(min) + " and " + std::to_string(max));
            *out = static_cast<int>(*v);
          },
          {}};
}

Key size(std::string name, std::uint64_t* out, std::string doc, std::uint64_t min) {
  return {name,
          "size",
          std::to_string(*out),
          doc,
          [out, min](const YAML::Node& n, const std::string& p, Ctx& c) {
            std::string s;
            if (!scalar(n, p, c, s)) return;
            auto v = parse_size(s);
            if (!v.ok()) return c.error(p, v.error().message);
            if (v.value() < min)
              return c.error(p, "must be at least " + std::to_string(min) + " bytes");
            *out = v.value();
          },
          {}};
}

Key strlist(std::string name, std::vector<std::string>* out, std::string doc,
            std::function<std::string(const std::string&)> check = nullptr) {
  return {name,
          "list of strings",
          "[]",
          doc,
          [out, check](const YAML::Node& n, const std::string& p, Ctx& c) {
            if (n.IsNull()) return;
            if (!n.IsSequence()) return c.error(p, "expected a list" + where(n));
            out->clear();
            for (std::size_t i = 0; i < n.size(); ++i) {
              std::string s;
              std::string ip = p + "[" + std::to_string(i) + "]";
              if (!scalar(n[i], ip, c, s)) continue;
              if (check) {
                if (auto e = check(s); !e.empty()) {
                  c.error(ip, e);
                  continue;
                }
              }
              out->push_back(s);
            }
          },
          {}};
}

Key section(std::string name, std::string doc, std::function<Schema()> schema) {
  return {
      name,
      "map",
      "",
      doc,
      [schema](const YAML::Node& n, const std::string& p, Ctx& c) { read_map(n, p, c, schema()); },
      schema};
}

template <class T>
Key list_of(std::string name, std::vector<T>* out, std::string doc,
            std::function<Schema(T&)> schema) {
  return {name,
          "list",
          "[]",
          doc,
          [out, schema](const YAML::Node& n, const std::string& p, Ctx& c) {
            if (n.IsNull()) return;
            if (!n.IsSequence()) return c.error(p, "expected a list" + where(n));
            out->clear();
            for (std::size_t i = 0; i < n.size(); ++i) {
              T item;
              read_map(n[i], p + "[" + std::to_string(i) + "]", c, schema(item));
              out->push_back(std::move(item));
            }
          },
          [schema] {
            static T doc_item;
            return schema(doc_item);
          }};
}

std::string check_namespace(const std::string& s) {
  static const std::regex dns1123("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  if (s.size() > 63 || !std::regex_match(s, dns1123))
    return "\"" + s + "\" is not a valid namespace name";
  return "";
}

std::string check_re2(const std::string& s) {
  auto r = diagnosis::Redactor::create({s});
  return r.ok() ? "" : r.error().message;
}

std::string check_reason(const std::string& s) {
  const auto& known = rules::known_reasons();
  if (std::find(known.begin(), known.end(), s) != known.end()) return "";
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return "unknown reason \"" + s + "\"; known: " + list;
}

Schema slack_schema(SlackNotifierSettings& s) {
  return {
      str("name", &s.name, "notifier name, used in metrics and logs"),
      str("webhookUrl", &s.webhook_url,
          "Slack incoming webhook URL (use ${SLACK_WEBHOOK_URL}); or botToken + channel"),
      str("botToken", &s.bot_token,
          "bot mode: xoxb- token for chat.postMessage; follow-ups thread under the alert"),
      str("channel", &s.channel, "bot mode: channel id (C…) or name"),
      str("apiUrl", &s.api_url, "bot mode: Slack Web API base URL"),
      strlist("namespaces", &s.namespaces, "route only these namespaces here; empty: all",
              check_namespace),
      strlist("reasons", &s.reasons, "route only these reasons here; empty: all", check_reason)};
}

Schema webhook_schema(WebhookNotifierSettings& w) {
  return {
      str("name", &w.name, "notifier name, used in metrics and logs"),
      str("url", &w.url, "endpoint receiving the JSON payload"),
      str("secret", &w.secret, "HMAC-SHA256 key for X-Podmedic-Signature; empty: unsigned"),
      strlist("namespaces", &w.namespaces, "route only these namespaces here; empty: all",
              check_namespace),
      strlist("reasons", &w.reasons, "route only these reasons here; empty: all", check_reason)};
}

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
      section("watch", "what to watch",
              [&c] {
                return Schema{strlist("namespaces", &c.watch.namespaces,
                                      "namespaces to watch; empty: all", check_namespace),
                              strlist("excludeNamespaces", &c.watch.exclude_namespaces,
                                      "namespaces never watched", check_namespace),
                              str("labelSelector", &c.watch.label_selector,
                                  "label selector for pods; empty: all pods")};
              }),
      section("detect", "what counts as broken",
              [&c] {
                return Schema{strlist("reasons", &c.detect.rules.reasons,
                                      "failure reasons to detect", check_reason),
                              duration("resolveAfter", &c.detect.resolve_after,
                                       "healthy this long → resolved", false),
                              duration("renotifyAfter", &c.detect.renotify_after,
                                       "reminder for open incidents; 0: never", true),
                              duration("flapHoldDown", &c.detect.flap_hold_down,
                                       "a recurrence this soon after resolving reopens the "
                                       "incident silently",
                                       true),
                              strlist("ignoreContainers", &c.detect.rules.ignore_containers,
                                      "container names never reported (e.g. sidecars)")};
              }),
      section("diagnosis", "evidence gathering and the LLM explanation",
              [&c] {
                return Schema{
                    boolean("enabled", &c.diagnosis.enabled, "ask the LLM to explain incidents"),
                    duration("waitBeforeNotify", &c.diagnosis.wait_before_notify,
                             "hold the alert this long for the diagnosis", true),
                    integer("concurrency", &c.diagnosis.concurrency,
                            "LLM calls at a time for incidents", 1, 16),
                    integer("queueSize", &c.diagnosis.queue_size,
                            "diagnosis requests waiting at most (newest first; oldest dropped)", 1,
                            100000),
                    section("redact", "what is removed before anything leaves the process",
                            [&c] {
                              return Schema{
                                  strlist("patterns", &c.diagnosis.redact_patterns,
                                          "extra RE2 patterns replaced with [REDACTED]", check_re2),
                                  boolean("maskNames", &c.diagnosis.mask_names,
                                          "replace namespace, workload, pod and node names "
                                          "with placeholders in LLM prompts")};
                            }),
                    section("logs", "container log evidence", [&c] {
                      return Schema{size("fetchBytes", &c.diagnosis.fetch_bytes,
                                         "limitBytes of each log request", 1024),
                                    size("maxBytes", &c.diagnosis.max_bytes,
                                         "evidence budget per container", 256)};
                    })};
              }),
      section("ollama", "the local LLM server",
              [&c] {
                return Schema{
                    str("url", &c.ollama.url, "Ollama base URL"),
                    str("model", &c.ollama.model, "model name"),
                    str("api", &c.ollama.api,
                        "ollama (/api/chat) | openai (/v1/chat/completions of other local "
                        "servers)"),
                    boolean("stream", &c.ollama.stream, "Ollama: stream the answer as NDJSON"),
                    integer("numCtx", &c.ollama.num_ctx, "context window (options.num_ctx)", 512,
                            1 << 20),
                    integer("numPredict", &c.ollama.num_predict,
                            "answer length bound (options.num_predict / max_tokens)", 16, 1 << 16),
                    duration("timeout", &c.ollama.timeout,
                             "per-request timeout (first call includes model load)", false)};
              }),
      section("notifiers", "where alerts go",
              [&c] {
                return Schema{
                    list_of<SlackNotifierSettings>("slack", &c.notifiers.slack,
                                                   "Slack incoming webhooks", slack_schema),
                    list_of<WebhookNotifierSettings>("webhooks", &c.notifiers.webhooks,
                                                     "generic JSON webhooks", webhook_schema)};
              }),
      section("server", "the HTTP API and metrics",
              [&c] {
                return Schema{
                    str("listen", &c.server.listen, "address:port of the HTTP server"),
                    str("token", &c.server.token,
                        "bearer token for /ask, /diagnose, /models and /api/*; empty: open (a "
                        "warning at start when listening beyond loopback)"),
                    integer("maxConnections", &c.server.max_connections,
                            "connections at once; beyond it 503 and close (start-up makes room "
                            "in RLIMIT_NOFILE for them plus 64, or refuses to start)",
                            1, 65536),
                    duration("idleTimeout", &c.server.idle_timeout,
                             "an idle connection (no request byte) is closed after this", false)};
              }),
      section("state", "persisted incident state",
              [&c] {
                return Schema{
                    str("dir", &c.state.dir, "directory for incident state and the outbox"),
                    duration("outboxMaxAge", &c.state.outbox_max_age,
                             "undelivered messages older than this are dropped (logged with the "
                             "incident id)",
                             false)};
              }),
      section("ha", "high availability: several replicas, one notifies (Lease election)",
              [&c] {
                return Schema{
                    boolean("enabled", &c.ha.enabled,
                            "elect a leader on a coordination.k8s.io Lease; state moves with it "
                            "through the ConfigMap <leaseName>-state"),
                    str("leaseName", &c.ha.lease_name,
                        "name of the Lease (and prefix of the state ConfigMap)"),
                    str("leaseNamespace", &c.ha.lease_namespace,
                        "namespace of the Lease; empty: $POD_NAMESPACE, else default"),
                    str("identity", &c.ha.identity,
                        "this replica's identity; empty: $POD_NAME, else the host name"),
                    duration("leaseDuration", &c.ha.lease_duration,
                             "a leader silent this long is replaced", false),
                    duration("renewDeadline", &c.ha.renew_deadline,
                             "a leader that cannot renew this long steps down", false),
                    duration("retryPeriod", &c.ha.retry_period, "how often to try and renew",
                             false)};
              }),
      section("log", "podmedic's own logs",
              [&c] {
                return Schema{
                    str("level", &c.log.level, "debug | info | warn | error"),
                    str("format", &c.log.format, "auto (text on a TTY, else JSON) | json | text")};
              }),
  };
}

bool is_http_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

void validate(Config& c, Ctx& ctx) {
  if (c.cluster.name.empty()) ctx.error("cluster.name", "must not be empty");
  if (c.detect.rules.reasons.empty()) ctx.error("detect.reasons", "must list at least one reason");
  if (!is_http_url(c.ollama.url)) ctx.error("ollama.url", "must start with http:// or https://");
  if (c.ollama.model.empty()) ctx.error("ollama.model", "must not be empty");
  if (c.ollama.api != "ollama" && c.ollama.api != "openai")
    ctx.error("ollama.api", "expected ollama or openai, got \"" + c.ollama.api + "\"");
  std::set<std::string> names;
  auto check_name = [&](const std::string& path, const std::string& name) {
    if (name.empty())
      ctx.error(path + ".name", "required");
    else if (!names.insert(name).second)
      ctx.error(path + ".name", "duplicate notifier name \"" + name + "\"");
  };
  for (std::size_t i = 0; i < c.notifiers.slack.size(); ++i) {
    std::string p = "notifiers.slack[" + std::to_string(i) + "]";
    const auto& s = c.notifiers.slack[i];
    check_name(p, s.name);
    if (!s.bot_token.empty() || !s.channel.empty()) {
      if (!s.webhook_url.empty())
        ctx.error(p, "set either webhookUrl or botToken + channel, not both");
      if (s.bot_token.empty())
        ctx.error(p + ".botToken",
                  "required with channel (empty after expanding environment variables?)");
      if (s.channel.empty()) ctx.error(p + ".channel", "required with botToken");
      if (!is_http_url(s.api_url)) ctx.error(p + ".apiUrl", "must be an http(s) URL");
    } else if (s.webhook_url.empty()) {
      ctx.error(p + ".webhookUrl", "required (empty after expanding environment variables?)");
    } else if (!is_http_url(s.webhook_url)) {
      ctx.error(p + ".webhookUrl", "must be an http(s) URL");
    }
  }
  for (std::size_t i = 0; i < c.notifiers.webhooks.size(); ++i) {
    std::string p = "notifiers.webhooks[" + std::to_string(i) + "]";
    const auto& w = c.notifiers.webhooks[i];
    check_name(p, w.name);
    if (w.url.empty())
      ctx.error(p + ".url", "required (empty after expanding environment variables?)");
    else if (!is_http_url(w.url))
      ctx.error(p + ".url", "must be an http(s) URL");
  }
  auto colon = c.server.listen.rfind(':');
  bool port_ok = colon != std::string::npos &&
                 parse::port(std::string_view(c.server.listen).substr(colon + 1)).has_value();
  if (!port_ok) ctx.error("server.listen", "expected host:port, got \"" + c.server.listen + "\"");
  if (c.server.idle_timeout > std::chrono::minutes(10))
    ctx.error("server.idleTimeout", "must be at most 10m");
  if (c.state.dir.empty()) ctx.error("state.dir", "must not be empty");
  if (c.ha.enabled) {
    if (c.ha.renew_deadline >= c.ha.lease_duration)
      ctx.error("ha.renewDeadline", "must be shorter than ha.leaseDuration");
    if (c.ha.retry_period >= c.ha.renew_deadline)
      ctx.error("ha.retryPeriod", "must be shorter than ha.renewDeadline");
    if (c.ha.lease_name.empty()) ctx.error("ha.leaseName", "must not be empty");
  }
  static const std::set<std::string> levels = {"debug", "info", "warn", "error"};
  if (!levels.count(c.log.level)) ctx.error("log.level", "expected debug, info, warn or error");
  static const std::set<std::string> formats = {"auto", "json", "text"};
  if (!formats.count(c.log.format)) ctx.error("log.format", "expected auto, json or text");
  for (const auto& ns : c.watch.exclude_namespaces) {
    if (std::find(c.watch.namespaces.begin(), c.watch.namespaces.end(), ns) !=
        c.watch.namespaces.end()) {
      ctx.error("watch.excludeNamespaces", "\"" + ns + "\" is also listed in watch.namespaces");
    }
  }
}

void document(const Schema& schema, const std::string& indent, std::ostringstream& out) {
  for (const auto& k : schema) {
    out << indent << k.name << ":";
    if (k.children) {
      out << "  # " << k.doc << "\n";
      document(k.children(), indent + "  ", out);
    } else {
      out << " " << (k.default_text.empty() ? "\"\"" : k.default_text) << "  # " << k.type << ": "
          << k.doc << "\n";
    }
  }
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
  std::ifstream f(path);
  if (!f) {
    ConfigResult r;
    r.errors.push_back(path + ": cannot read the config file");
    return r;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), path);
}

bool listens_beyond_loopback(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon == std::string::npos ? listen.size() : colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "::1") return false;
  // 127.0.0.0/8, written as a dotted quad.
  if (host.rfind("127.", 0) == 0 && std::all_of(host.begin(), host.end(), [](char ch) {
        return ch == '.' || std::isdigit(static_cast<unsigned char>(ch));
      }))
    return false;
  return true;
}

bool in_watch_scope(const watcher::WatchSettings& watch, const std::string& ns) {
  auto listed = [&ns](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), ns) != v.end();
  };
  if (!watch.namespaces.empty() && !listed(watch.namespaces)) return false;
  return !listed(watch.exclude_namespaces);
}

std::string config_reference() {
  Config defaults;
  std::ostringstream out;
  document(root_schema(defaults), "", out);
  return out.str();
}

}  // namespace podmedic::app
