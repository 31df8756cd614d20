#pragma once
// `podmedic diagnose NAMESPACE[/POD]`: one-shot diagnosis printed to the terminal, as text or as
// JSON (an array of the `POST /diagnose` response shape, one element per workload).
//
// NAMESPACE alone: the namespace must exist (GET /api/v1/namespaces/NAME; 404 is an error, exit
// 1); its failing pods (at most kMaxFailingPods) are grouped by workload and failure (the
// containers and reasons that fail), so the replicas of one workload failing the same way are
// diagnosed and printed once, naming every pod; at most kMaxGroups groups are diagnosed (one LLM
// call each), the others are named. NAMESPACE/POD: that pod alone. Everything printed from the
// cluster or the LLM has passed the redactor. Runs its own io_context on the calling thread.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/config.h"
#include "diagnosis/llm_service.h"

namespace podmedic::app {

enum class OutputFormat { kText, kJson };

struct DiagnoseOptions {
  std::string target;  // NAMESPACE or NAMESPACE/POD
  std::optional<std::string> config;
  std::string question;  // may be empty
  bool no_llm = false;   // evidence and rules-based facts only
  OutputFormat output = OutputFormat::kText;
};

// Bounds of one NAMESPACE run: pods looked at (one GET each) and groups diagnosed (evidence
// and one LLM call each; a CPU model takes about a minute per call).
constexpr std::size_t kMaxFailingPods = 100;
constexpr std::size_t kMaxGroups = 10;

// One failing pod, as grouping sees it: its workload ("Deployment/api") and the signature of its
// failure (sorted "container=reason" pairs).
struct FailingPod {
  std::string name;
  std::string workload;
  std::string signature;
};

// Replicas of one workload that fail the same way, in the order their first pod came.
struct PodGroup {
  std::string workload;
  std::string signature;
  std::vector<std::string> pods;  // by name, as listed
};

// Pure: groups `pods` by (workload, signature), keeping the input's order of first appearance.
std::vector<PodGroup> group_by_workload(const std::vector<FailingPod>& pods);

// One diagnosed group as the CLI prints it.
struct DiagnosedGroup {
  std::string workload;           // redacted; empty for `diagnose NAMESPACE/POD`
  std::vector<std::string> pods;  // redacted names
  diagnosis::DiagnoseReply reply;
};

// Pure renderings. Text: a header per group (several pods or a namespace run), the evidence,
// the answer and the rules-based facts. JSON: one object per group in the `POST /diagnose`
// shape (answer, model, context; error, context, facts when the LLM failed) plus `workload`,
// `pods` and `facts` always.
std::string render_text(const std::vector<DiagnosedGroup>& groups, bool namespace_run);
nlohmann::json render_json(const std::vector<DiagnosedGroup>& groups);

// The command: 0 when it printed a diagnosis (also rules-based only, also "no failing pods"),
// 1 when the namespace or pod does not exist or the cluster cannot be read; messages on stderr.
int diagnose_command(const DiagnoseOptions& options);

}  // namespace podmedic::app
