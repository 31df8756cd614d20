#include "diagnosis/evidence.h"

#include <chrono>
#include <set>

#include "core/text.h"
#include "core/units.h"
#include "diagnosis/node.h"
#include "k8s/decode.h"
#include "rules/facts.h"

namespace podmedic::diagnosis {

namespace net = boost::asio;

namespace {

std::string state_text(const k8s::ContainerState& s, const Interner& in) {
  switch (s.kind) {
    case k8s::ContainerState::kNone:
      return "none";
    case k8s::ContainerState::kWaiting:
      return "waiting: " + std::string(in.view(s.reason));
    case k8s::ContainerState::kRunning:
      return "running since " + format_rfc3339(s.started_at);
    case k8s::ContainerState::kTerminated:
      return "terminated: " + std::string(in.view(s.reason)) + ", exit " +
             std::to_string(s.exit_code) + " (" + rules::exit_code_meaning(s.exit_code) + ")" +
             (s.finished_at ? " at " + format_rfc3339(s.finished_at) : "");
  }
  return "";
}

std::string summarize(const k8s::PodView& p, const Interner& in) {
  std::string s = "pod " + std::string(in.view(p.ns)) + "/" + p.name + ": phase " +
                  std::string(in.view(p.phase));
  if (p.reason) s += " (" + std::string(in.view(p.reason)) + ")";
  s += ", ready " + std::string(p.ready ? "yes" : "no");
  if (p.node) s += ", node " + std::string(in.view(p.node));
  if (p.owner_kind)
    s += ", owned by " + std::string(in.view(p.owner_kind)) + "/" +
         std::string(in.view(p.owner_name));
  if (p.deleting_since) s += ", being deleted";
  s += "\n";
  if (!p.status_message.empty()) s += "  status message: " + p.status_message + "\n";
  for (const auto& c : p.containers) {
    s += std::string(c.init ? "  init container " : "  container ") + std::string(in.view(c.name)) +
         ": image " + std::string(in.view(c.image)) + ", restarts " +
         std::to_string(c.restart_count) + ", ready " + (c.ready ? "yes" : "no") + "\n";
    s += "    state: " + state_text(c.state, in) + (c.message.empty() ? "" : " — " + c.message) +
         "\n";
    if (c.last.kind != k8s::ContainerState::kNone)
      s += "    last state: " + state_text(c.last, in) + "\n";
    s += "    resources: requests cpu " +
         std::string(c.cpu_request ? in.view(c.cpu_request) : "-") + " memory " +
         std::string(c.mem_request ? in.view(c.mem_request) : "-") + "; limits cpu " +
         std::string(c.cpu_limit ? in.view(c.cpu_limit) : "-") + " memory " +
         std::string(c.mem_limit ? in.view(c.mem_limit) : "-") + "\n";
  }
  return s;
}

std::string finding_text(const k8s::PodView& p, const rules::Finding& f, const Interner& in) {
  std::string s = f.reason + " in container " + std::string(in.view(f.container));
  s += (f.exit_code ? ": " : ", ") + rules::exit_and_restarts(f.exit_code, f.restarts);
  for (const auto& c : p.containers) {
    if (c.name == f.container) s += rules::container_facts(f.reason, c, in);
  }
  return s;
}

}  // namespace

std::string Evidence::text() const {
  // The change first: a failure right after a rollout is most often the rollout's doing.
  std::string t = change.empty() ? "" : "== What changed ==\n" + change + "\n\n";
  t += "== Pod ==\n" + summary;
  t += "\n== Findings (rules) ==\n";
  if (findings_text.empty()) t += "no failing container right now\n";
  for (const auto& f : findings_text) t += "- " + f + "\n";
  if (!facts.empty()) {
    t += "\n== Facts ==\n";
    for (const auto& f : facts) t += "- " + f + "\n";
  }
  t += "\n== Events (this pod, newest first) ==\n";
  if (events.empty()) t += "none\n";
  for (const auto& e : events) t += e + "\n";
  for (const auto& l : logs) {
    if (!l.previous.empty())
      t += "\n== Logs: " + l.container + " (previous instance) ==\n" + l.previous;
    if (!l.current.empty()) t += "\n== Logs: " + l.container + " (current, tail) ==\n" + l.current;
    if (!l.note.empty()) t += "\n== Logs: " + l.container + " ==\n" + l.note + "\n";
  }
  return t;
}

const Redactor& builtin_redactor() {
  // The built-in patterns are part of the program: failing to compile them is a bug.
  static const Redactor r = std::move(Redactor::create().value());
  return r;
}

PodFacts pod_facts(const k8s::PodView& view, const Interner& interner,
                   const rules::Detector& detector) {
  PodFacts f;
  Evidence& ev = f.evidence;
  ev.ns = std::string(interner.view(view.ns));
  ev.pod = view.name;
  ev.summary = summarize(view, interner);
  ev.findings = detector.current(view);
  for (const auto& x : ev.findings) ev.findings_text.push_back(finding_text(view, x, interner));
  if (!ev.findings.empty())
    ev.key_container = std::string(interner.view(ev.findings.front().container));
  if (view.node) ev.node = std::string(interner.view(view.node));
  f.uid = view.uid;
  if (view.owner_kind) {
    f.owner_kind = std::string(interner.view(view.owner_kind));
    f.owner_name = std::string(interner.view(view.owner_name));
  }
  // Facts beyond logs that the pod object itself holds.
  for (const auto& x : ev.findings) {
    for (const auto& c : view.containers) {
      if (c.name != x.container || c.init != x.init) continue;
      const std::string name(interner.view(c.name));
      if (auto t = rules::last_termination(c, interner); !t.empty())
        ev.facts.push_back("container " + name + " last ended: " + t);
      if (const auto& m = rules::termination_message(c); !m.empty())
        ev.facts.push_back("container " + name + " termination message: " + m);
      if (x.reason == "OOMKilled" && !f.oom) {
        f.oom = PodFacts::Oom{name, c.mem_limit ? std::string(interner.view(c.mem_limit)) : "",
                              c.mem_request ? std::string(interner.view(c.mem_request)) : "",
                              x.terminated_at};
      }
    }
  }
  for (auto& line : rules::init_container_facts(view, interner))
    ev.facts.push_back(std::move(line));
  if (!ev.findings.empty()) f.began = ev.findings.front().terminated_at;
  for (const auto& c : view.containers) {
    f.containers.push_back(
        {std::string(interner.view(c.name)),
         c.restart_count > 0 || c.last.kind == k8s::ContainerState::kTerminated});
  }
  return f;
}

net::awaitable<Result<k8s::PodView>> get_pod(k8s::KubeClient& client, Interner& interner,
                                             std::string ns, std::string pod) {
  using namespace std::chrono_literals;
  std::string target =
      "/api/v1/namespaces/" + k8s::url_encode(ns) + "/pods/" + k8s::url_encode(pod);
  auto r = co_await client.get(std::move(target), 8u << 20, 30s);
  if (!r.ok()) co_return r.error();
  if (r->status != 200) co_return Error{k8s::describe(k8s::parse_status(r->status, r->body))};
  // A GET returns the bare object: decode it as the object of a watch event.
  std::string line = "{\"type\":\"ADDED\",\"object\":" + r->body + "}";
  line.reserve(line.size() + k8s::kJsonPadding);
  k8s::Decoder decoder(interner);
  k8s::WatchHeader hdr;
  k8s::PodView view;
  if (auto d = decoder.watch_pod(line, line.capacity(), hdr, view); !d.ok()) co_return d.error();
  co_return view;
}

namespace {

// The node's memory state for an OOM kill: asked when node facts are allowed, else why not.
net::awaitable<std::string> node_fact(k8s::KubeClient& client, k8s::Decoder& decoder,
                                      const PodFacts::Oom& oom, std::string node,
                                      FactSettings settings, std::int64_t now) {
  rules::NodeMemory mem;
  if (node.empty()) {
    mem.unknown_why = "the pod has no node";
  } else if (!settings.node_facts) {
    mem.unknown_why = "node facts skipped: " + settings.node_facts_off;
  } else {
    auto op = fetch_node_memory(client, decoder, node, oom.killed_at ? oom.killed_at : now);
    mem = co_await std::move(op);
  }
  co_return "container " + oom.container + ": " +
      rules::oom_verdict(oom.limit, oom.request, node, mem);
}

// What the owner's latest rollout changed: fills ev.change (a sentence) and returns the raw
// changes. Only for pods a Deployment (via its ReplicaSet), StatefulSet or DaemonSet controls.
net::awaitable<std::vector<TemplateChange>> rollout_fact(k8s::KubeClient& client, Evidence& ev,
                                                         const PodFacts& facts,
                                                         FactSettings settings,
                                                         RevisionLookup revisions,
                                                         std::int64_t began) {
  const std::string& kind = facts.owner_kind;
  std::vector<TemplateChange> none;
  if (kind != "ReplicaSet" && kind != "StatefulSet" && kind != "DaemonSet") co_return none;
  Result<std::vector<Revision>> revs = Error{""};
  if (revisions) {
    auto op = revisions(ev.ns, kind);
    revs = co_await std::move(op);
  } else {
    auto op = fetch_revisions(client, ev.ns, kind);
    revs = co_await std::move(op);
  }
  if (!revs.ok()) {
    ev.change = "(the workload's revisions are unavailable: " + revs.error().message + ")";
    co_return none;
  }
  auto rc = rollout_change(*revs, kind, facts.owner_name, facts.owner_name, began,
                           settings.change_window_seconds);
  if (!rc) co_return none;
  ev.change = "started failing " + rules::human_duration(began - rc->created) +
              " after the rollout to revision " + std::to_string(rc->number) + " (" + rc->revision +
              ", was revision " + std::to_string(rc->previous) +
              "): " + rules::describe_changes(rc->changes);
  co_return std::move(rc->changes);
}

// The newest lines of a log within options.limit_bytes. The API server applies limitBytes from
// the start of the tailLines window, so a window of long lines comes back cut before its newest
// lines (the crash). When an answer fills the byte limit, ask again for as many lines as fit,
// sized from the lines just seen (at most two more requests).
net::awaitable<Result<k8s::LogText>> fetch_tail(k8s::KubeClient& client, std::string ns,
                                                std::string pod, k8s::LogOptions o) {
  for (int attempt = 0;; ++attempt) {
    auto r = co_await k8s::fetch_logs(client, ns, pod, o);
    if (!r.ok() || !r->available || o.limit_bytes <= 0 || attempt == 2) co_return r;
    const std::string& t = r->text;
    if (t.size() < static_cast<std::size_t>(o.limit_bytes)) co_return r;
    const auto lines = std::count(t.begin(), t.end(), '\n');
    if (lines < 2) co_return r;
    const double per_line = static_cast<double>(t.size()) / static_cast<double>(lines);
    const auto fit = static_cast<long long>(static_cast<double>(o.limit_bytes) * 0.8 / per_line);
    if (fit < 1 || fit >= o.tail_lines) co_return r;
    o.tail_lines = static_cast<int>(fit);
  }
}

}  // namespace

net::awaitable<Result<Evidence>> complete_evidence(k8s::KubeClient& client, Interner& interner,
                                                   PodFacts facts, LogBudget budget,
                                                   std::shared_ptr<RedactionSession> session,
                                                   FactSettings settings, RevisionLookup revisions,
                                                   std::int64_t now) {
  if (!session) session = std::make_shared<RedactionSession>(builtin_redactor());
  if (now == 0)
    now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  Evidence ev = std::move(facts.evidence);
  const std::string ns = ev.ns, pod = ev.pod;
  k8s::Decoder decoder(interner);
  auto events = co_await k8s::fetch_pod_events(client, decoder, ns, pod, facts.uid, 10);
  if (events.ok()) {
    std::set<std::string> seen;  // container + meaning: one line each, from the newest event
    for (const auto& e : *events) {
      const std::string reason(interner.view(e.reason));
      ev.events.push_back(format_rfc3339(e.last_seen) + " " + std::string(interner.view(e.type)) +
                          " " + reason + " (x" + std::to_string(e.count) + "): " + e.message);
      auto meaning = rules::probe_meaning(reason, e.message);
      if (!meaning) continue;
      // The container the event is about: spec.containers{app}.
      std::string who = e.field_path;
      if (auto b = who.find('{'); b != std::string::npos && who.back() == '}')
        who = who.substr(b + 1, who.size() - b - 2);
      std::string line =
          (who.empty() ? std::string("a container") : "container " + who) + ": " + *meaning;
      if (!seen.insert(line).second) continue;
      ev.facts.push_back(line + " (" + reason + " x" + std::to_string(e.count) + ": " +
                         std::string(text::cut_utf8(e.message, 200)) + ")");
    }
  } else {
    ev.events.push_back("(events unavailable: " + events.error().message + ")");
  }
  // Raw logs, whole as fetched: redacted together with everything else before selection.
  struct RawLogs {
    std::string previous, current;
    bool has_previous = false, has_current = false;
  };
  std::vector<RawLogs> raw;
  for (const auto& c : facts.containers) {
    ContainerLogs cl;
    RawLogs rl;
    cl.container = c.name;
    k8s::LogOptions o;
    o.container = cl.container;
    o.tail_lines = 2000;
    o.limit_bytes = static_cast<long long>(budget.fetch_bytes);
    if (c.previous) {
      o.previous = true;
      auto prev = co_await fetch_tail(client, ns, pod, o);
      if (prev.ok() && prev->available) {
        rl.previous = std::move(prev->text);
        rl.has_previous = true;
      } else if (prev.ok()) {
        cl.note = prev->unavailable_reason;
      } else {
        cl.note = prev.error().message;
      }
    }
    o.previous = false;
    o.tail_lines = 200;
    auto cur = co_await fetch_tail(client, ns, pod, o);
    if (cur.ok() && cur->available) {
      rl.current = std::move(cur->text);
      rl.has_current = true;
    } else if (cur.ok() && cl.note.empty()) {
      cl.note = cur->unavailable_reason;
    }
    ev.logs.push_back(std::move(cl));
    raw.push_back(std::move(rl));
  }

  if (facts.oom) {
    auto op = node_fact(client, decoder, *facts.oom, ev.node, settings, now);
    ev.facts.push_back(co_await std::move(op));
  }
  const std::int64_t began = facts.began ? facts.began : now;
  auto rollout = rollout_fact(client, ev, facts, settings, std::move(revisions), began);
  std::vector<TemplateChange> changes = co_await std::move(rollout);

  // Redact first, then select: one session over every text of this pod, in place.
  std::vector<std::string*> fields{&ev.summary, &ev.change};
  for (auto& f : ev.findings_text) fields.push_back(&f);
  for (auto& f : ev.facts) fields.push_back(&f);
  for (auto& c : changes) {
    fields.push_back(&c.container);
    fields.push_back(&c.from);
    fields.push_back(&c.to);
  }
  for (auto& e : ev.events) fields.push_back(&e);
  for (std::size_t i = 0; i < ev.logs.size(); ++i) {
    fields.push_back(&ev.logs[i].note);
    fields.push_back(&raw[i].previous);
    fields.push_back(&raw[i].current);
  }
  std::vector<std::string> texts;
  texts.reserve(fields.size());
  for (auto* f : fields) texts.push_back(std::move(*f));
  session->redact_all(texts);
  for (std::size_t i = 0; i < fields.size(); ++i) *fields[i] = std::move(texts[i]);
  for (auto& c : changes) {
    // Already redacted by the session above; sealing again only re-applies the same rules.
    ev.changes.push_back(
        {c.field, std::move(c.container), session->seal(c.from), session->seal(c.to)});
  }
  for (std::size_t i = 0; i < ev.logs.size(); ++i) {
    if (raw[i].has_previous)
      ev.logs[i].previous = select_log_lines(raw[i].previous, budget.max_bytes);
    if (raw[i].has_current)
      ev.logs[i].current = select_log_lines(raw[i].current, budget.max_bytes / 2);
  }
  ev.session = std::move(session);
  co_return ev;
}

net::awaitable<Result<Evidence>> gather_pod(k8s::KubeClient& client, Interner& interner,
                                            const rules::Detector& detector, std::string ns,
                                            std::string pod, LogBudget budget,
                                            std::shared_ptr<RedactionSession> session) {
  auto get = get_pod(client, interner, ns, pod);
  auto view = co_await std::move(get);
  if (!view.ok()) co_return view.error();
  auto facts = pod_facts(*view, interner, detector);
  auto op = complete_evidence(client, interner, std::move(facts), budget, std::move(session));
  co_return co_await std::move(op);
}

net::awaitable<Result<std::vector<std::string>>> failing_pods(k8s::KubeClient& client,
                                                              Interner& interner,
                                                              const rules::Detector& detector,
                                                              std::string ns, std::size_t max,
                                                              int page_size) {
  using namespace std::chrono_literals;
  k8s::Decoder decoder(interner);
  std::vector<std::string> out;
  k8s::ListOptions page;
  page.limit = page_size;
  // Bounded: a namespace of N pods takes N / page_size pages; each page is at most 64 MiB.
  for (;;) {
    std::string target = k8s::list_target(k8s::Resource::kPods, ns, page);
    auto r = co_await client.get(std::move(target), 64u << 20, 60s);
    if (!r.ok()) co_return r.error();
    if (r->status != 200) co_return Error{k8s::describe(k8s::parse_status(r->status, r->body))};
    r->body.reserve(r->body.size() + k8s::kJsonPadding);
    k8s::ListMeta meta;
    auto d = decoder.pod_list(r->body, r->body.capacity(), meta, [&](k8s::PodView& p) {
      if (out.size() < max && !detector.current(p).empty()) out.push_back(p.name);
    });
    if (!d.ok()) co_return d.error();
    if (out.size() >= max || meta.continue_token.empty()) break;
    page.continue_token = meta.continue_token;
  }
  co_return out;
}

}  // namespace podmedic::diagnosis
