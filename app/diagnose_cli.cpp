#include "app/diagnose_cli.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "app/commands.h"
#include "app/llm_routes.h"
#include "core/log.h"
#include "core/parse.h"
#include "diagnosis/evidence.h"
#include "diagnosis/evidence_source.h"
#include "diagnosis/llm.h"
#include "diagnosis/redact.h"
#include "incidents/workload.h"
#include "k8s/api.h"

namespace podmedic::app {

namespace net = boost::asio;
using diagnosis::LlmOutcome;

std::vector<PodGroup> group_by_workload(const std::vector<FailingPod>& pods) {
  std::vector<PodGroup> groups;
  std::map<std::pair<std::string, std::string>, std::size_t> index;  // bounded by `pods`
  for (const auto& p : pods) {
    auto [it, fresh] = index.try_emplace({p.workload, p.signature}, groups.size());
    if (fresh) groups.push_back({p.workload, p.signature, {}});
    groups[it->second].pods.push_back(p.name);
  }
  return groups;
}

namespace {

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// One reply's rules-based facts: the pod's own lines (one pod per reply here).
const std::vector<std::string>& facts_of(const diagnosis::DiagnoseReply& r) {
  return r.pods.size() == 1 ? r.pods.front().findings : r.facts;
}

std::string render_one(const DiagnosedGroup& g, bool namespace_run) {
  const auto& r = g.reply;
  std::string out;
  if (namespace_run) {
    out +=
        "=== " + g.workload + ": " +
        (g.pods.size() == 1
             ? "pod " + g.pods.front()
             : std::to_string(g.pods.size()) +
                   " pods failing the same way (evidence of the first): " + joined(g.pods, ", ")) +
        " ===\n";
  }
  out += r.context;
  std::string facts;
  for (const auto& f : facts_of(r)) facts += "- " + f + "\n";
  const std::string question = r.question.empty() ? "" : "Question: " + r.question + "\n";
  if (r.asked && r.outcome == LlmOutcome::kOk) {
    out += "== Answer (" + r.model + ") ==\n" + question + r.answer + "\n" +
           (r.truncated ? "[answer cut at ollama.numPredict]" : "") + "\n== Facts (rules) ==\n" +
           facts + "\n";
    return out;
  }
  out += r.asked ? "== Answer (rules-based; LLM unavailable: " + r.error + ") ==\n"
                 : std::string("== Answer (rules-based) ==\n");
  out += question;
  if (facts.empty()) out += "No container of this pod is failing right now.\n";
  return out + facts + "\n";
}

}  // namespace

std::string render_text(const std::vector<DiagnosedGroup>& groups, bool namespace_run) {
  std::string out;
  for (const auto& g : groups) out += render_one(g, namespace_run);
  return out;
}

nlohmann::json render_json(const std::vector<DiagnosedGroup>& groups) {
  auto out = nlohmann::json::array();
  for (const auto& g : groups) {
    const auto& r = g.reply;
    // The `POST /diagnose` body; without the LLM (--no-llm) the evidence alone.
    nlohmann::json j = r.asked ? diagnose_body(r) : nlohmann::json{{"context", r.context}};
    j["facts"] = r.facts;
    j["workload"] = g.workload;
    j["pods"] = g.pods;
    out.push_back(std::move(j));
  }
  return out;
}

int diagnose_command(const DiagnoseOptions& o) {
  const auto slash = o.target.find('/');
  const std::string ns = o.target.substr(0, slash);
  const std::string pod = slash == std::string::npos ? "" : o.target.substr(slash + 1);
  if (ns.empty() || (slash != std::string::npos && pod.empty())) {
    std::fprintf(stderr, "podmedic diagnose: expected NAMESPACE or NAMESPACE/POD, got \"%s\"\n",
                 o.target.c_str());
    return 2;
  }
  const auto loaded = load_for_command(o.config);
  if (!loaded) return 1;
  const Config& config = *loaded;
  log::init(log::Level::kError, log::Format::kText);
  auto conn = k8s::resolve_connection(config.cluster.kubeconfig, config.cluster.context);
  if (!conn.ok()) {
    std::fprintf(stderr, "podmedic diagnose: %s\n", conn.error().message.c_str());
    return 1;
  }
  auto redactor = diagnosis::Redactor::create(config.diagnosis.redact_patterns);
  if (!redactor.ok()) {
    std::fprintf(stderr, "podmedic diagnose: %s\n", redactor.error().message.c_str());
    return 1;
  }
  net::io_context ioc;
  k8s::KubeClient client(ioc.get_executor(), std::move(conn.value()));
  Interner interner;
  rules::Detector detector(interner, config.detect.rules);
  // No watcher here: every read goes to the API server.
  diagnosis::EvidenceSource evidence(
      client, interner, detector,
      diagnosis::LogBudget{config.diagnosis.fetch_bytes, config.diagnosis.max_bytes}, {},
      fact_settings(config));
  prometheus::Registry registry;
  // The same service as `podmedic run`'s /diagnose: one prompt per group, over its first pod.
  diagnosis::LlmService llm(
      std::make_shared<diagnosis::HttpLlmClient>(diagnosis::llm_settings(config.ollama)), *redactor,
      evidence, registry);

  int rc = 0;
  const bool namespace_run = pod.empty();
  std::vector<DiagnosedGroup> done;
  std::vector<std::string> skipped;  // groups beyond kMaxGroups, redacted
  auto run = [&]() -> net::awaitable<void> {
    using namespace std::chrono_literals;
    // A namespace that does not exist is an error, not "no failing pods". Other answers (a
    // kubeconfig user without namespaces/get gets 403) let the pod reads decide.
    auto get = client.get("/api/v1/namespaces/" + k8s::url_encode(ns), 1u << 20, 30s);
    auto got = co_await std::move(get);
    if (!got.ok()) {
      std::fprintf(stderr, "podmedic diagnose: cannot read namespace %s: %s\n", ns.c_str(),
                   got.error().message.c_str());
      rc = 1;
      co_return;
    }
    if (got->status == 404) {
      std::fprintf(stderr, "podmedic diagnose: namespace \"%s\" not found\n",
                   redactor->redact(ns).c_str());
      rc = 1;
      co_return;
    }
    std::vector<PodGroup> groups;
    if (!namespace_run) {
      groups.push_back({"", "", {pod}});
    } else {
      auto list = evidence.failing_pods(ns, kMaxFailingPods);
      auto failing = co_await std::move(list);
      if (!failing.ok()) {
        std::fprintf(stderr, "podmedic diagnose: namespace %s: %s\n", ns.c_str(),
                     failing.error().message.c_str());
        rc = 1;
        co_return;
      }
      std::vector<FailingPod> pods;
      for (const auto& name : failing.value()) {
        auto op = diagnosis::get_pod(client, interner, ns, name);
        auto view = co_await std::move(op);
        if (!view.ok()) continue;  // gone since the listing
        // Read at once: the view's symbols are safe for one interner period.
        const auto facts = diagnosis::pod_facts(*view, interner, detector);
        std::vector<std::string> sig;
        for (const auto& f : facts.evidence.findings) {
          sig.push_back(std::string(interner.view(f.container)) + "=" + f.reason);
        }
        std::sort(sig.begin(), sig.end());
        const auto w = incidents::resolve_workload(*view, interner);
        pods.push_back({name, w.kind + "/" + w.name, joined(sig, ",")});
      }
      groups = group_by_workload(pods);
    }
    for (const auto& g : groups) {
      if (done.size() == kMaxGroups) {
        skipped.push_back(redactor->redact(g.workload + " (" + joined(g.pods, ", ") + ")"));
        continue;
      }
      diagnosis::DiagnoseRequest req;
      req.question = o.question;
      req.ns = ns;
      req.pod = g.pods.front();
      req.ask_llm = config.diagnosis.enabled && !o.no_llm;
      req.before_llm = [&] {
        std::fprintf(stderr, "asking %s at %s…\n", llm.client().model().c_str(),
                     diagnosis::url_without_credentials(config.ollama.url).c_str());
      };
      auto op = llm.diagnose(std::move(req));
      auto r = co_await std::move(op);
      if (r.outcome == LlmOutcome::kPodNotFound || r.outcome == LlmOutcome::kPodFailed) {
        std::fprintf(stderr, "podmedic diagnose: %s/%s: %s\n", ns.c_str(), r.failed_pod.c_str(),
                     r.error.c_str());
        if (!namespace_run) {
          rc = 1;
          co_return;
        }
        continue;  // the pod went away meanwhile; the other groups still count
      }
      DiagnosedGroup d;
      d.workload = redactor->redact(g.workload);
      for (const auto& p : g.pods) d.pods.push_back(redactor->redact(p));
      d.reply = std::move(r);
      done.push_back(std::move(d));
    }
  };
  net::co_spawn(ioc, run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ioc.run();
  if (rc != 0) return rc;
  if (o.output == OutputFormat::kJson) {
    std::printf("%s\n", parse::dump(render_json(done), 2).c_str());
  } else if (done.empty()) {
    std::printf("No failing pods in namespace %s.\n", redactor->redact(ns).c_str());
  } else {
    std::fputs(render_text(done, namespace_run).c_str(), stdout);
  }
  if (!skipped.empty()) {
    std::fprintf(o.output == OutputFormat::kJson ? stderr : stdout,
                 "%zu more failing workloads not diagnosed (at most %zu per run): %s\n",
                 skipped.size(), kMaxGroups, joined(skipped, "; ").c_str());
  }
  return 0;
}

}  // namespace podmedic::app
