// Rendering of incident events for Slack and generic webhooks (pure; pipeline thread).
#include <openssl/hmac.h>

#include <algorithm>

#include "core/http.h"
#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"
#include "notifiers/slack.h"
#include "notifiers/state.h"
#include "notifiers/webhook.h"

namespace podmedic::notifiers {

using json = nlohmann::json;

bool Routing::accepts(const incidents::Incident& i) const {
  auto in = [](const std::vector<std::string>& list, const std::string& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  return in(namespaces, i.ns) && in(reasons, i.reason);
}

bool Routing::accepts_namespace(const std::string& ns) const {
  return namespaces.empty() ||
         std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
}

SendResult classify(const http::PostResult& r) {
  SendResult s;
  if (r.cancelled) {
    s.outcome = Outcome::kCancelled;
    s.detail = "cancelled";
    return s;
  }
  s.status = r.status;
  s.detail = r.status == 0 ? r.error : text::cut_utf8_with_marker(r.body, 200);
  if (r.retry_after_unusable)
    s.faults.push_back(PeerFault::kBadHeader);  // garbage or absurd: as if absent
  else if (r.retry_after_seconds > 0)
    s.retry_after = std::chrono::seconds(std::min(r.retry_after_seconds, 3600L));
  if (r.status >= 200 && r.status < 300) {
    s.outcome = Outcome::kOk;
  } else if (r.status == 0) {
    s.outcome = Outcome::kRetry;
    // libcurl's CURLE_OPERATION_TIMEDOUT text: "Operation timed out after … milliseconds …".
    s.faults.push_back(r.error.find("timed out") != std::string::npos ? PeerFault::kTimeout
                                                                      : PeerFault::kTransport);
  } else if (r.status == 429) {
    s.outcome = Outcome::kRetry;  // the receiver's rate limit: expected, not a fault
  } else {
    s.outcome = r.status >= 500 ? Outcome::kRetry : Outcome::kPermanent;
    s.faults.push_back(PeerFault::kStatus);
  }
  return s;
}

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return text::hex({mac, len});
}

json webhook_body(const std::string& type, const incidents::Incident& inc,
                  const std::string& facts) {
  // PRODUCT.md's payload: the incident's shared fields (incidents::summary_json), and around
  // them the event type, the cluster, the facts and a diagnosis that is always there (the
  // rules-based one when the LLM gave none).
  json diagnosis = incidents::diagnosis_json(inc);
  if (diagnosis.is_null()) {
    diagnosis = {
        {"text", inc.evidence.empty() ? facts : facts + "\n\nKey evidence:\n" + inc.evidence.str()},
        {"model", ""},
        {"source", "rules"}};
  }
  json body = {{"type", type},
               {"cluster", inc.cluster},
               {"incident", incidents::summary_json(inc)},
               {"facts", facts},
               {"diagnosis", std::move(diagnosis)},
               {"severity", inc.severity},
               {"changes", incidents::changes_json(inc)}};
  if (!inc.runbook_url.empty()) body["runbookUrl"] = inc.runbook_url;
  return body;
}

std::vector<Payload> WebhookNotifier::render(const Rendering& r) const {
  std::vector<Payload> out;
  const char* type = nullptr;
  switch (r.type) {
    case incidents::EventType::kOpened:
    case incidents::EventType::kDigest:
      type = "incident.opened";
      break;
    case incidents::EventType::kResolved:
      type = "incident.resolved";
      break;
    case incidents::EventType::kDiagnosed:
      type = "incident.diagnosed";
      break;
    case incidents::EventType::kReminder:
      return out;  // reminders are for humans
  }
  for (const auto* inc : r.incidents) {
    if (!s_.routing.accepts(*inc)) continue;
    std::string facts = r.facts ? r.facts(*inc) : "";
    // The incident id rides along (unused by the webhook itself) so that the outbox can name
    // the incident of a message it drops.
    out.push_back({type, parse::dump(webhook_body(type, *inc, facts)), inc->id});
  }
  return out;
}

std::vector<Payload> WebhookNotifier::render_alert(const incidents::AlertDiagnosis& a) const {
  if (!s_.routing.accepts_namespace(a.ns)) return {};
  return {{"alert.diagnosed", parse::dump(incidents::alert_diagnosed_json(a)), a.incident_id}};
}

SendResult WebhookNotifier::send(const Payload& p, const std::string& delivery_id,
                                 const http::Cancel* cancel) {
  std::vector<std::string> headers = {"Content-Type: application/json",
                                      "X-Podmedic-Event: " + p.event,
                                      "X-Podmedic-Delivery: " + delivery_id};
  if (!s_.secret.empty())
    headers.push_back("X-Podmedic-Signature: sha256=" + hmac_sha256_hex(s_.secret, p.body));
  return classify(http::post(s_.url, headers, p.body, s_.timeout, cancel));
}

std::string slack_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

std::vector<std::string> next_commands(const incidents::Incident& inc) {
  std::string pod = inc.all_pods.empty() ? inc.workload.name : inc.all_pods.front();
  std::string ns = "-n " + inc.ns + " ";
  std::vector<std::string> cmds = {"kubectl " + ns + "describe pod " + pod};
  if (inc.reason == "ImagePullBackOff") {
    cmds.push_back("kubectl " + ns + "get pod " + pod +
                   " -o jsonpath='{.spec.containers[*].image}'");
  } else {
    cmds.push_back("kubectl " + ns + "logs " + pod + " -c " + inc.container + " --previous");
  }
  cmds.push_back("kubectl " + ns + "get events --field-selector involvedObject.name=" + pod);
  if (inc.reason == "OOMKilled") {
    std::string kind = inc.workload.kind;
    std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
    cmds.push_back("kubectl " + ns + "get " + kind + " " + inc.workload.name +
                   " -o jsonpath='{.spec.template.spec.containers[*].resources}'");
  }
  return cmds;
}

namespace {

json text_section(const std::string& mrkdwn) {
  return {{"type", "section"},
          {"text", {{"type", "mrkdwn"}, {"text", text::cut_utf8_with_marker(mrkdwn, 3000)}}}};
}

// Long text as several sections of at most ~2900 characters, cut at line ends.
void long_text(json& blocks, const std::string& title, const std::string& text,
               std::size_t max_sections = 4) {
  std::string rest = text;
  bool first = true;
  for (std::size_t n = 0; n < max_sections && !rest.empty(); ++n) {
    std::size_t budget = 2900 - (first ? title.size() + 1 : 0);
    std::string part;
    if (rest.size() <= budget) {
      part = rest;
      rest.clear();
    } else {
      auto cut = rest.rfind('\n', budget);
      if (cut == std::string::npos || cut < budget / 2) {
        cut = text::cut_utf8(rest, budget).size();  // no line end nearby: at a character boundary
      }
      part = rest.substr(0, cut);
      rest = rest.substr(cut);
      if (n + 1 == max_sections) part += "\n…";
    }
    blocks.push_back(text_section((first ? title + "\n" : "") + part));
    first = false;
  }
}

json diagnosis_blocks(const incidents::Incident& inc) {
  json blocks = json::array();
  long_text(blocks,
            "*Likely cause (" +
                slack_escape(inc.diagnosis_model.empty() ? "LLM" : inc.diagnosis_model) + ")*",
            slack_escape(inc.diagnosis.str()));
  return blocks;
}

std::string code_block(const std::string& text) {
  std::string t = text;
  for (auto p = t.find("```"); p != std::string::npos; p = t.find("```", p)) t.replace(p, 3, "'''");
  return "```" + text::cut_utf8_with_marker(t, 2900) + "```";
}

json alert_blocks(const incidents::Incident& inc, const std::string& facts, const char* headline) {
  json blocks = json::array();
  blocks.push_back(
      {{"type", "header"},
       {"text",
        {{"type", "plain_text"},
         {"text",
          text::cut_utf8_with_marker(
              std::string(headline) + inc.reason + ": " + inc.ns + "/" + inc.workload.name, 150)},
         {"emoji", true}}}});
  auto field = [](const std::string& k, const std::string& v) {
    return json{{"type", "mrkdwn"},
                {"text", text::cut_utf8_with_marker("*" + k + "*\n" + slack_escape(v), 2000)}};
  };
  json fields = json::array({field("Cluster", inc.cluster), field("Namespace", inc.ns),
                             field("Workload", inc.workload.kind + "/" + inc.workload.name),
                             field("Container", inc.container),
                             field("Pods", std::to_string(inc.all_pods.size())),
                             field("Restarts", std::to_string(inc.restarts))});
  if (inc.exit_code != 0) fields.push_back(field("Exit code", std::to_string(inc.exit_code)));
  if (!inc.severity.empty()) fields.push_back(field("Severity", inc.severity));
  blocks.push_back({{"type", "section"}, {"fields", fields}});
  if (!inc.runbook_url.empty()) {
    // Our own configured URL with percent-encoded cluster values: no '|' or '>' can reach it.
    blocks.push_back(text_section("*Runbook*\n<" + slack_escape(inc.runbook_url) + "|" +
                                  slack_escape(inc.runbook_url) + ">"));
  }
  if (!inc.diagnosis.empty()) {
    for (auto& b : diagnosis_blocks(inc)) blocks.push_back(std::move(b));
    blocks.push_back(text_section("*Facts (rules)*\n" + slack_escape(facts)));
  } else {
    blocks.push_back(text_section("*Likely cause (rules)*\n" + slack_escape(facts)));
  }
  std::string cmds;
  for (const auto& c : next_commands(inc)) cmds += c + "\n";
  blocks.push_back(text_section("*Next steps*\n" + code_block(slack_escape(cmds))));
  if (!inc.message.empty())
    blocks.push_back(
        text_section("*Last state message*\n" + code_block(slack_escape(inc.message.str()))));
  if (!inc.evidence.empty()) {
    blocks.push_back(text_section("*Key log lines and events*\n" +
                                  code_block(slack_escape(inc.evidence.str()))));
  }
  blocks.push_back(
      {{"type", "context"},
       {"elements",
        json::array({{{"type", "mrkdwn"},
                      {"text", "incident `" + inc.id + "` · first seen " +
                                   format_rfc3339(inc.first_seen) + " · podmedic"}}})}});
  return blocks;
}

}  // namespace

std::vector<Payload> SlackNotifier::render_alert(const incidents::AlertDiagnosis& a) const {
  if (!s_.routing.accepts_namespace(a.ns)) return {};
  json blocks = json::array();
  const std::string title = "Alertmanager: " + a.alertname.str() + " on " + a.ns + "/" + a.pod;
  blocks.push_back({{"type", "header"},
                    {"text",
                     {{"type", "plain_text"},
                      {"text", text::cut_utf8_with_marker(title, 150)},
                      {"emoji", true}}}});
  auto field = [](const std::string& k, const std::string& v) {
    return json{{"type", "mrkdwn"},
                {"text", text::cut_utf8_with_marker("*" + k + "*\n" + slack_escape(v), 2000)}};
  };
  blocks.push_back(
      {{"type", "section"},
       {"fields", json::array({field("Cluster", a.cluster), field("Namespace", a.ns),
                               field("Pod", a.pod), field("Alert", a.alertname.str())})}});
  if (!a.diagnosis.empty()) {
    long_text(blocks, "*Likely cause (" + slack_escape(a.model.empty() ? "LLM" : a.model) + ")*",
              slack_escape(a.diagnosis.str()));
    long_text(blocks, "*Facts (rules)*", slack_escape(a.facts), 2);
  } else {
    long_text(blocks, "*Likely cause (rules)*", slack_escape(a.facts), 2);
  }
  json body = {{"text", text::cut_utf8_with_marker(slack_escape(title), 3900)},
               {"blocks", std::move(blocks)},
               {"unfurl_links", false}};
  // Attached to podmedic's own incident: in bot mode it threads under that incident's alert.
  return {{"alert.diagnosed", parse::dump(body), a.incident_id}};
}

std::vector<Payload> SlackNotifier::render(const Rendering& r) const {
  std::vector<const incidents::Incident*> incs;
  for (const auto* i : r.incidents) {
    if (s_.routing.accepts(*i)) incs.push_back(i);
  }
  if (incs.empty()) return {};
  std::vector<Payload> out;
  auto emit = [&](const std::string& event, const std::string& text, json blocks,
                  const std::string& thread = "", bool root = false) {
    if (blocks.size() > 50) blocks.erase(blocks.begin() + 49, blocks.end());
    json body = {{"text", text::cut_utf8_with_marker(text, 3900)},
                 {"blocks", blocks},
                 {"unfurl_links", false}};
    out.push_back({event, parse::dump(body), thread, root});
  };
  switch (r.type) {
    case incidents::EventType::kOpened:
    case incidents::EventType::kReminder:
      for (const auto* inc : incs) {
        bool reminder = r.type == incidents::EventType::kReminder;
        std::string facts = r.facts ? r.facts(*inc) : "";
        std::string text = std::string(reminder ? "Still broken: " : "") + "[" +
                           slack_escape(inc->cluster) + "] " + inc->reason + ": " +
                           slack_escape(inc->ns + "/" + inc->workload.name) + " (" +
                           text::count_of(inc->all_pods.size(), "pod") + ", " +
                           text::count_of(inc->restarts, "restart") + ")";
        emit(reminder ? "incident.reminder" : "incident.opened", text,
             alert_blocks(*inc, facts, reminder ? "Still failing, " : ""), inc->id, !reminder);
      }
      break;
    case incidents::EventType::kDiagnosed:
      for (const auto* inc : incs) {
        std::string text = "Diagnosis: [" + slack_escape(inc->cluster) + "] " + inc->reason + ": " +
                           slack_escape(inc->ns + "/" + inc->workload.name);
        json blocks = diagnosis_blocks(*inc);
        blocks.insert(blocks.begin(), text_section(":mag: " + text));
        blocks.push_back(
            {{"type", "context"},
             {"elements",
              json::array({{{"type", "mrkdwn"},
                            {"text", "incident `" + inc->id + "` · follows the alert"}}})}});
        emit("incident.diagnosed", text, blocks, inc->id);
      }
      break;
    case incidents::EventType::kResolved:
      for (const auto* inc : incs) {
        std::string text = "Resolved: [" + slack_escape(inc->cluster) + "] " + inc->reason + ": " +
                           slack_escape(inc->ns + "/" + inc->workload.name) + " after " +
                           std::to_string(inc->resolved_at - inc->first_seen) + "s";
        emit("incident.resolved", text,
             json::array({text_section(":white_check_mark: " + text),
                          {{"type", "context"},
                           {"elements", json::array({{{"type", "mrkdwn"},
                                                      {"text", "incident `" + inc->id + "`"}}})}}}),
             inc->id);
      }
      break;
    case incidents::EventType::kDigest: {
      std::string text = std::to_string(incs.size()) + " workloads started failing in [" +
                         slack_escape(incs.front()->cluster) + "]";
      json blocks = json::array(
          {{{"type", "header"},
            {"text", {{"type", "plain_text"}, {"text", text::cut_utf8_with_marker(text, 150)}}}}});
      std::string lines;
      std::size_t shown = 0;
      for (const auto* inc : incs) {
        std::string line = "• *" + inc->reason + "* " +
                           slack_escape(inc->ns + "/" + inc->workload.name) + " (" +
                           text::count_of(inc->all_pods.size(), "pod") + ") `" + inc->id + "`\n";
        if (lines.size() + line.size() > 2900) break;
        lines += line;
        ++shown;
      }
      if (shown < incs.size()) lines += "… and " + std::to_string(incs.size() - shown) + " more";
      blocks.push_back(text_section(lines));
      emit("incident.opened", text, blocks);
      break;
    }
  }
  return out;
}

SlackNotifier::SlackNotifier(SlackSettings s) : s_(std::move(s)) {
  if (s_.bot_token.empty() || s_.state_dir.empty()) return;
  threads_file_ =
      std::make_unique<incidents::StateFile>(s_.state_dir, "slack-threads-" + s_.name + ".json");
  load_threads();
}

void SlackNotifier::load_threads() {
  const std::string path = threads_file_->path();
  auto text = read_state_text(path, kMaxThreadsFile);
  if (!text.ok()) {
    set_aside(path, text.error().message);
    return;
  }
  if (!*text) return;  // first start
  auto loaded = parse_slack_threads(**text, kMaxThreads);
  if (!loaded.ok()) {
    set_aside(path, loaded.error().message);
    return;
  }
  for (auto& t : loaded->items) {
    if (!threads_.count(t.incident)) thread_order_.push_back(t.incident);
    threads_[t.incident] = std::move(t.ts);
  }
  if (loaded->skipped > 0) {
    // Kept for a human; the valid entries are written back at the next save.
    set_aside(path,
              std::to_string(loaded->skipped) + " entries skipped, first: " + loaded->first_skip);
  }
}

std::map<std::string, std::string> SlackNotifier::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

SendResult SlackNotifier::send(const Payload& p, const std::string&, const http::Cancel* cancel) {
  if (!s_.bot_token.empty()) return post_message(p, cancel);
  auto r =
      http::post(s_.webhook_url, {"Content-Type: application/json"}, p.body, s_.timeout, cancel);
  SendResult res = classify(r);
  // Incoming webhooks answer "ok". Anything else with a 2xx is still delivered (never re-post),
  // but the receiver is not the Slack we expect: count it.
  if (res.outcome == Outcome::kOk && r.body != "ok") {
    res.faults.push_back(PeerFault::kMalformed);
    res.detail = "unexpected reply to a 2xx: " + text::cut_utf8_with_marker(r.body, 100);
  }
  return res;
}

bool SlackNotifier::save_threads() {
  json list = json::array();
  for (const auto& id : thread_order_) list.push_back({{"incident", id}, {"ts", threads_[id]}});
  threads_dirty_ = !threads_file_->save({{"version", 1}, {"threads", list}}).ok();
  return !threads_dirty_;
}

bool SlackNotifier::save_state() {
  std::lock_guard lock(mu_);
  if (!threads_file_ || !threads_dirty_) return true;
  return save_threads();
}

SendResult SlackNotifier::post_message(const Payload& p, const http::Cancel* cancel) {
  auto parsed = parse::json_text(p.body, "Slack payload");
  if (!parsed.ok() || !parsed->is_object())
    return {Outcome::kPermanent, 0, std::chrono::seconds(0), "bad payload", {}};
  json body = std::move(parsed).value();  // our own rendering, an object
  body["channel"] = s_.channel;
  if (!p.root && !p.thread.empty()) {
    std::lock_guard lock(mu_);
    if (auto it = threads_.find(p.thread); it != threads_.end()) body["thread_ts"] = it->second;
  }
  auto r = http::request(
      "POST", s_.api_url + "/chat.postMessage",
      {"Content-Type: application/json; charset=utf-8", "Authorization: Bearer " + s_.bot_token},
      parse::dump(body), s_.timeout, kMaxReply, cancel);
  SendResult res = classify(r);
  if (res.outcome != Outcome::kOk) return res;
  // Web API errors come as HTTP 200 with ok:false. A reply we cannot read still means Slack took
  // the request with a 2xx: delivered, without a ts to thread under (a retry could post twice).
  SlackReply reply;
  if (r.body.size() >= kMaxReply) {
    reply.fault = PeerFault::kOversized;
    reply.detail = "the reply is larger than 1 MiB";
  } else {
    reply = parse_slack_reply(r.body);
  }
  if (reply.fault) {
    res.faults.push_back(*reply.fault);
    res.detail = "unusable chat.postMessage reply (delivered, no thread): " + reply.detail;
  }
  if (reply.kind == SlackReply::Kind::kError) {
    static const std::vector<std::string> transient = {
        "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"};
    bool retry = std::find(transient.begin(), transient.end(), reply.error) != transient.end();
    res.outcome = retry ? Outcome::kRetry : Outcome::kPermanent;
    res.detail = reply.error;
    return res;
  }
  if (p.root && !p.thread.empty() && !reply.ts.empty()) {
    std::lock_guard lock(mu_);
    if (!threads_.count(p.thread)) thread_order_.push_back(p.thread);
    threads_[p.thread] = reply.ts;  // exact string, never a number
    while (thread_order_.size() > kMaxThreads) {
      threads_.erase(thread_order_.front());
      thread_order_.erase(thread_order_.begin());
    }
    if (threads_file_) save_threads();  // on failure: retried by save_state()
  }
  return res;
}

}  // namespace podmedic::notifiers
