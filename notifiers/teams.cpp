// Microsoft Teams Workflows: Adaptive Card rendering (pure; pipeline thread) and delivery
// (worker thread).
#include "notifiers/teams.h"

#include <algorithm>

#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"
#include "notifiers/slack.h"

namespace podmedic::notifiers {

using json = nlohmann::json;

std::string teams_escape(std::string_view in) {
  const std::string s = text::sanitize_utf8(in);
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  bool line_start = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\n\n";
      line_start = true;
      continue;
    }
    if (line_start) {
      if (c == ' ' || c == '\t') {
        out += c;
        continue;
      }
      line_start = false;
      if (c == '-' || c == '+' || c == '=') {
        out += '\\';  // a bullet, or a setext underline
      } else if (c >= '0' && c <= '9') {
        // "12. " or "12) " opens a numbered list: escape its delimiter.
        std::size_t j = i;
        while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
        out.append(s, i, j - i);
        if (j < s.size() && (s[j] == '.' || s[j] == ')')) {
          out += '\\';
          out += s[j];
          ++j;
        }
        i = j - 1;
        continue;
      }
    }
    switch (c) {
      case '\\':
      case '*':
      case '_':
      case '[':
      case ']':
      case '(':
      case ')':
      case '`':
      case '~':
      case '#':
      case '|':
      case '!':
      case '<':
      case '>':
      case '&':
      case '{':
      case '}':
        out += '\\';
        break;
      default:
        break;
    }
    out += c;
  }
  return out;
}

namespace {

// How much of each long text goes into a card; render() shrinks these until the body fits.
struct Budget {
  std::size_t evidence = 12'000;  // bytes of key lines and events
  std::size_t evidence_lines = 80;
  std::size_t diagnosis = 10'000;
  std::size_t message = 2'000;
  std::size_t facts = 6'000;
  std::size_t changes = 10;
  std::size_t digest_lines = 100;
  // The next budget when the body is still too large: the key lines go first, then the
  // diagnosis, the last message and the facts; false when nothing is left to cut.
  bool shrink() {
    for (std::size_t* b : {&evidence, &diagnosis, &message, &facts}) {
      if (*b > 0) {
        *b = *b > 512 ? *b / 2 : 0;
        if (b == &evidence) evidence_lines = evidence == 0 ? 0 : evidence_lines / 2 + 1;
        return true;
      }
    }
    if (changes > 0 || digest_lines > 1) {
      changes /= 2;
      digest_lines /= 2;
      return true;
    }
    return false;
  }
};

json block(const std::string& markdown) {
  return {{"type", "TextBlock"}, {"text", markdown}, {"wrap", true}};
}
json heading(const std::string& title) {
  json b = block(title);
  b["weight"] = "Bolder";
  b["spacing"] = "Medium";
  return b;
}
json mono(const std::string& markdown) {
  json b = block(markdown);
  b["fontType"] = "Monospace";
  b["spacing"] = "None";
  return b;
}
json subtle(const std::string& markdown) {
  json b = block(markdown);
  b["isSubtle"] = true;
  b["size"] = "Small";
  return b;
}

// Escaped text of at most `max` bytes of the original (cut at a character boundary).
std::string esc(std::string_view s, std::size_t max) {
  return teams_escape(text::cut_utf8_with_marker(s, max));
}

const char* color_of(const std::string& severity) {
  if (severity == "critical") return "Attention";
  if (severity == "warning") return "Warning";
  return "Default";
}

// One monospace TextBlock per line (exact lines, no markdown line-break rules), within `bytes`
// and `lines`.
void lines_blocks(json& body, const std::string& text, std::size_t bytes, std::size_t lines) {
  std::size_t used = 0, n = 0, start = 0;
  while (start < text.size() && n < lines) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    if (used + line.size() > bytes) {
      body.push_back(mono("…"));
      return;
    }
    used += line.size();
    ++n;
    body.push_back(mono(esc(line, 1000)));
  }
  if (start < text.size()) body.push_back(mono("…"));
}

json header(const std::string& title, const std::string& severity) {
  json b = block(title);
  b["size"] = "Medium";
  b["weight"] = "Bolder";
  b["color"] = color_of(severity);
  return b;
}

json footer(const incidents::Incident& inc, const std::string& extra) {
  return subtle("incident " + inc.id + " · first seen " + format_rfc3339(inc.first_seen) + extra +
                " · podmedic");
}

std::string title_of(const incidents::Incident& inc, std::size_t max = 300) {
  return esc(inc.reason + ": " + inc.ns + "/" + inc.workload.name, max);
}

void alert_body(json& body, const incidents::Incident& inc, const std::string& facts, bool reminder,
                const Budget& b) {
  std::string severity = inc.severity.empty() ? "warning" : inc.severity;
  body.push_back(header((reminder ? "Still failing: " : "") + title_of(inc), severity));
  auto fact = [](const std::string& k, std::string_view v) {
    return json{{"title", k}, {"value", esc(v, 256)}};
  };
  json facts_set = json::array({fact("Cluster", inc.cluster), fact("Namespace", inc.ns),
                                fact("Workload", inc.workload.kind + "/" + inc.workload.name),
                                fact("Container", inc.container),
                                fact("Pods", std::to_string(inc.all_pods.size())),
                                fact("Restarts", std::to_string(inc.restarts))});
  if (inc.exit_code != 0) facts_set.push_back(fact("Exit code", std::to_string(inc.exit_code)));
  if (!inc.severity.empty()) facts_set.push_back(fact("Severity", inc.severity));
  body.push_back({{"type", "FactSet"}, {"facts", std::move(facts_set)}});
  if (!inc.diagnosis.empty() && b.diagnosis > 0) {
    body.push_back(heading("Likely cause (" +
                           esc(inc.diagnosis_model.empty() ? "LLM" : inc.diagnosis_model, 100) +
                           ")"));
    body.push_back(block(esc(inc.diagnosis.str(), b.diagnosis)));
    if (b.facts > 0) {
      body.push_back(heading("Facts (rules)"));
      body.push_back(block(esc(facts, b.facts)));
    }
  } else if (b.facts > 0) {
    body.push_back(heading("Likely cause (rules)"));
    body.push_back(block(esc(facts, b.facts)));
  }
  if (!inc.changes.empty() && b.changes > 0) {
    body.push_back(heading("Changed by the last rollout"));
    std::size_t n = 0;
    for (const auto& c : inc.changes) {
      if (n++ == b.changes) {
        body.push_back(mono("…"));
        break;
      }
      body.push_back(
          mono(esc(c.field + " " + c.container + ": " + c.from.str() + " → " + c.to.str(), 300)));
    }
  }
  body.push_back(heading("Next steps"));
  for (const auto& cmd : next_commands(inc)) body.push_back(mono(esc(cmd, 600)));
  if (!inc.message.empty() && b.message > 0) {
    body.push_back(heading("Last state message"));
    lines_blocks(body, inc.message.str(), b.message, 20);
  }
  if (!inc.evidence.empty() && b.evidence > 0) {
    body.push_back(heading("Key log lines and events"));
    lines_blocks(body, inc.evidence.str(), b.evidence, b.evidence_lines);
  }
  body.push_back(footer(inc, ""));
}

json envelope(json body, const std::vector<json>& actions) {
  json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
               {"type", "AdaptiveCard"},
               {"version", "1.4"},
               {"msteams", {{"width", "Full"}}},
               {"body", std::move(body)}};
  if (!actions.empty()) card["actions"] = actions;
  return {{"type", "message"},
          {"attachments", json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                        {"contentUrl", nullptr},
                                        {"content", std::move(card)}}})}};
}

json open_url(const std::string& title, const std::string& url) {
  return {{"type", "Action.OpenUrl"}, {"title", title}, {"url", url}};
}

// Renders with a shrinking budget until the serialized body fits in TeamsNotifier::kMaxBody; the
// last resort is the headline alone.
template <class Build>
Payload fit(const std::string& event, const std::string& thread, Build&& build,
            const std::vector<json>& actions) {
  Budget b;
  for (;;) {
    json body = json::array();
    build(body, b);
    std::string bytes = parse::dump(envelope(std::move(body), actions));
    if (bytes.size() <= TeamsNotifier::kMaxBody || !b.shrink()) {
      if (bytes.size() > TeamsNotifier::kMaxBody) {
        json minimal = json::array(
            {header("podmedic: " + event + " (too large to show)", ""), subtle(esc(thread, 100))});
        bytes = parse::dump(envelope(std::move(minimal), {}));
      }
      return {event, std::move(bytes), thread};
    }
  }
}

}  // namespace

std::vector<Payload> TeamsNotifier::render_alert(const incidents::AlertDiagnosis& a) const {
  if (!s_.routing.accepts_namespace(a.ns)) return {};
  std::vector<json> actions;
  if (!s_.external_url.empty() && !a.incident_id.empty())
    actions.push_back(open_url("Open in podmedic", s_.external_url + "/#" + a.incident_id));
  return {fit(
      "alert.diagnosed", a.incident_id,
      [&](json& body, const Budget& b) {
        body.push_back(header(
            "Alertmanager: " + esc(a.alertname.str(), 200) + " on " + esc(a.ns + "/" + a.pod, 300),
            "warning"));
        body.push_back(
            {{"type", "FactSet"},
             {"facts",
              json::array({{{"title", "Cluster"}, {"value", esc(a.cluster, 256)}},
                           {{"title", "Namespace"}, {"value", esc(a.ns, 256)}},
                           {{"title", "Pod"}, {"value", esc(a.pod, 256)}},
                           {{"title", "Alert"}, {"value", esc(a.alertname.str(), 256)}}})}});
        if (!a.diagnosis.empty()) {
          body.push_back(
              heading("Likely cause (" + esc(a.model.empty() ? "LLM" : a.model, 100) + ")"));
          body.push_back(block(esc(a.diagnosis.str(), std::max<std::size_t>(b.diagnosis, 512))));
          body.push_back(heading("Facts (rules)"));
        } else {
          body.push_back(heading("Likely cause (rules)"));
        }
        body.push_back(block(esc(a.facts, std::max<std::size_t>(b.facts, 512))));
        body.push_back(subtle(esc("Alertmanager fingerprint " + a.fingerprint, 200)));
      },
      actions)};
}

std::vector<Payload> TeamsNotifier::render(const Rendering& r) const {
  std::vector<const incidents::Incident*> incs;
  for (const auto* i : r.incidents) {
    if (s_.routing.accepts(*i)) incs.push_back(i);
  }
  if (incs.empty()) return {};
  std::vector<Payload> out;
  auto emit = [&](const std::string& event, const std::string& thread, auto&& build,
                  const std::vector<json>& actions) {
    out.push_back(fit(event, thread, build, actions));
  };
  auto actions_of = [&](const incidents::Incident& inc) {
    std::vector<json> a;
    if (!inc.runbook_url.empty()) a.push_back(open_url("Runbook", inc.runbook_url));
    if (!s_.external_url.empty())
      a.push_back(open_url("Open in podmedic", s_.external_url + "/#" + inc.id));
    return a;
  };
  switch (r.type) {
    case incidents::EventType::kOpened:
    case incidents::EventType::kReminder:
      for (const auto* inc : incs) {
        const bool reminder = r.type == incidents::EventType::kReminder;
        const std::string facts = r.facts ? r.facts(*inc) : "";
        emit(
            reminder ? "incident.reminder" : "incident.opened", inc->id,
            [&](json& body, const Budget& b) { alert_body(body, *inc, facts, reminder, b); },
            actions_of(*inc));
      }
      break;
    case incidents::EventType::kDiagnosed:
      for (const auto* inc : incs) {
        emit(
            "incident.diagnosed", inc->id,
            [&](json& body, const Budget& b) {
              body.push_back(header("Diagnosis: " + title_of(*inc), inc->severity));
              body.push_back(heading(
                  "Likely cause (" +
                  esc(inc->diagnosis_model.empty() ? "LLM" : inc->diagnosis_model, 100) + ")"));
              body.push_back(
                  block(esc(inc->diagnosis.str(), std::max<std::size_t>(b.diagnosis, 512))));
              body.push_back(footer(*inc, " · follows the alert"));
            },
            actions_of(*inc));
      }
      break;
    case incidents::EventType::kResolved:
      for (const auto* inc : incs) {
        emit(
            "incident.resolved", inc->id,
            [&](json& body, const Budget&) {
              json h = header("Resolved: " + title_of(*inc), "");
              h["color"] = "Good";
              body.push_back(std::move(h));
              body.push_back(block(esc("[" + inc->cluster + "] after " +
                                           std::to_string(inc->resolved_at - inc->first_seen) + "s",
                                       400)));
              body.push_back(footer(*inc, ""));
            },
            {});
      }
      break;
    case incidents::EventType::kDigest:
      emit("incident.opened", "",
           [&](json& body, const Budget& b) {
             body.push_back(header(std::to_string(incs.size()) + " workloads started failing in " +
                                       esc(incs.front()->cluster, 256),
                                   "critical"));
             std::size_t shown = 0;
             for (const auto* inc : incs) {
               if (shown == b.digest_lines) break;
               body.push_back(
                   block(esc(inc->reason, 64) + " " + esc(inc->ns + "/" + inc->workload.name, 300) +
                         " (" + text::count_of(inc->all_pods.size(), "pod") + ") · " + inc->id));
               ++shown;
             }
             if (shown < incs.size())
               body.push_back(block("… and " + std::to_string(incs.size() - shown) + " more"));
           },
           {});
      break;
  }
  return out;
}

SendResult TeamsNotifier::send(const Payload& p, const std::string&, const http::Cancel* cancel) {
  // Workflows answers 202 (sometimes 200) with an empty body; what a 2xx says means nothing to
  // us. The URL's sig= is a secret: classify() reports libcurl's text, which names the host only.
  return classify(
      http::post(s_.webhook_url, {"Content-Type: application/json"}, p.body, s_.timeout, cancel));
}

}  // namespace podmedic::notifiers
