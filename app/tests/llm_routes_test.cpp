// The LLM routes' HTTP mapping of diagnosis::LlmService replies.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "app/llm_routes.h"

using namespace podmedic;
using diagnosis::LlmOutcome;
using json = nlohmann::json;

TEST_CASE("llm routes: busy is 429 with Retry-After on every route") {
  diagnosis::AskReply a;
  a.outcome = LlmOutcome::kBusy;
  diagnosis::DiagnoseReply d;
  d.outcome = LlmOutcome::kBusy;
  diagnosis::ModelsReply m;
  m.outcome = LlmOutcome::kBusy;
  for (const auto& r : {app::ask_response(a), app::diagnose_response(d), app::models_response(m)}) {
    CHECK(r.status == 429);
    CHECK(r.headers == std::vector<std::pair<std::string, std::string>>{{"Retry-After", "5"}});
    CHECK(json::parse(r.body)["error"] == "too many LLM requests in flight; retry later");
  }
}

TEST_CASE("llm routes: diagnose statuses and bodies") {
  diagnosis::DiagnoseReply d;
  d.context = "evidence";
  d.facts = {"cart-1: OOMKilled in container app"};
  d.answer = "heap too small";
  d.model = "mistral";
  auto ok = app::diagnose_response(d);
  CHECK(ok.status == 200);
  CHECK(json::parse(ok.body) ==
        json{{"answer", "heap too small"}, {"model", "mistral"}, {"context", "evidence"}});
  d.outcome = LlmOutcome::kLlmError;
  d.error = "LLM down";
  auto down = app::diagnose_response(d);
  CHECK(down.status == 503);
  CHECK(json::parse(down.body) == json{{"error", "LLM down"},
                                       {"context", "evidence"},
                                       {"facts", {"cart-1: OOMKilled in container app"}}});
  d.outcome = LlmOutcome::kListFailed;
  d.error = "HTTP 403 Forbidden";
  auto list = app::diagnose_response(d);
  CHECK(list.status == 502);
  CHECK(json::parse(list.body)["error"] == "cannot list pods: HTTP 403 Forbidden");
  d.outcome = LlmOutcome::kPodNotFound;
  d.error = "HTTP 404 NotFound: pods \"ghost\" not found";
  CHECK(app::diagnose_response(d).status == 404);
  d.outcome = LlmOutcome::kPodFailed;
  d.error = "timed out";
  auto failed = app::diagnose_response(d);
  CHECK(failed.status == 502);
  CHECK(json::parse(failed.body)["error"] == "timed out");
}

TEST_CASE("llm routes: ask and models") {
  diagnosis::AskReply a;
  a.answer = "a pod is…";
  a.model = "m";
  CHECK(json::parse(app::ask_response(a).body) == json{{"answer", "a pod is…"}, {"model", "m"}});
  a.outcome = LlmOutcome::kLlmError;
  a.error = "refused";
  CHECK(app::ask_response(a).status == 503);
  diagnosis::ModelsReply m;
  m.models = {"mistral:latest"};
  CHECK(json::parse(app::models_response(m).body) ==
        json::parse(R"({"models":[{"name":"mistral:latest","model":"mistral:latest"}]})"));
  m.outcome = LlmOutcome::kLlmError;
  CHECK(app::models_response(m).status == 503);
}
