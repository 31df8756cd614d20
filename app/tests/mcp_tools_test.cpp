// The MCP tools' results from diagnosis::LlmService replies (the deadline itself is exercised
// through the pipeline in tests/integration/mcp_test.cpp).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "app/mcp_tools.h"

using namespace podmedic;
using diagnosis::LlmOutcome;
using json = nlohmann::json;

TEST_CASE("mcp tools: diagnose replies as tool results") {
  diagnosis::DiagnoseReply d;
  d.pods = {{"cart-1", {"OOMKilled in container app"}}};
  d.facts = {"cart-1: OOMKilled in container app"};
  d.context = "== Pod ==";
  d.answer = "heap too small";
  d.model = "mistral";
  auto ok = app::diagnose_result(d);
  CHECK_FALSE(ok.is_error);
  CHECK(ok.structured == json{{"pods", {"cart-1"}},
                              {"facts", {"cart-1: OOMKilled in container app"}},
                              {"context", "== Pod =="},
                              {"answer", "heap too small"},
                              {"model", "mistral"}});
  d.truncated = true;
  CHECK(app::diagnose_result(d).structured["truncated"] == true);
  // Too slow: the reply so far and the note, no answer.
  auto late = app::diagnose_result(d, "the LLM did not answer in time");
  CHECK_FALSE(late.is_error);
  CHECK(late.structured["note"] == "the LLM did not answer in time");
  CHECK_FALSE(late.structured.contains("answer"));
  CHECK(late.structured["context"] == "== Pod ==");
  // The LLM failed: still the evidence and the facts, and why there is no diagnosis.
  d.outcome = LlmOutcome::kLlmError;
  d.error = "LLM unavailable";
  auto down = app::diagnose_result(d);
  CHECK_FALSE(down.is_error);
  CHECK(down.structured["note"].get<std::string>().find("LLM unavailable") != std::string::npos);
  CHECK_FALSE(down.structured.contains("answer"));
  CHECK(down.structured["facts"].size() == 1);
  struct Case {
    LlmOutcome outcome;
    std::string error;
  };
  for (const auto& c :
       {Case{LlmOutcome::kBusy, "too many LLM requests in flight"},
        Case{LlmOutcome::kListFailed, "cannot list pods: HTTP 403"},
        Case{LlmOutcome::kPodNotFound, "HTTP 404"}, Case{LlmOutcome::kPodFailed, "HTTP 404"}}) {
    d.outcome = c.outcome;
    d.error = c.outcome == LlmOutcome::kListFailed ? "HTTP 403" : "HTTP 404";
    auto r = app::diagnose_result(d);
    CHECK(r.is_error);
    CHECK(r.structured["error"].get<std::string>().find(c.error) != std::string::npos);
    CHECK_FALSE(r.structured.contains("context"));
  }
}

TEST_CASE("mcp tools: ask replies as tool results") {
  diagnosis::AskReply a;
  a.answer = "a pod is…";
  a.model = "m";
  auto ok = app::ask_result(a);
  CHECK_FALSE(ok.is_error);
  CHECK(ok.structured == json{{"answer", "a pod is…"}, {"model", "m"}});
  a.outcome = LlmOutcome::kLlmError;
  a.error = "refused";
  CHECK(app::ask_result(a).is_error);
  CHECK(app::ask_result(a).structured["error"] == "the LLM failed: refused");
  a.outcome = LlmOutcome::kBusy;
  CHECK(app::ask_result(a).structured["error"].get<std::string>().find("retry") !=
        std::string::npos);
}
