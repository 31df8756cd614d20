// The LLM client against a fake Ollama / OpenAI-compatible server that follows protocols.md §7:
// what the request contains, answers, 404 model not found, error bodies, a down server, the
// circuit breaker and truncation.
#include <catch2/catch.hpp>

#include <future>

#include <nlohmann/json.hpp>

#include "diagnosis/llm.h"
#include "tests/http_mock.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::diagnosis;
using json = nlohmann::json;

namespace {
test::MockResponse ollama(const test::MockRequest& r) {
  if (r.target == "/api/tags") {
    return {200,
            R"({"models":[{"name":"mistral:latest","model":"mistral:latest","size":4109865159}]})",
            {}};
  }
  auto j = json::parse(r.body);
  if (j["model"] != "mistral")
    return {404, R"({"error":"model ')" + j["model"].get<std::string>() + R"(' not found"})", {}};
  bool small = j["options"]["num_predict"] == 8;
  std::string user = j["messages"][1]["content"];
  const std::string answer = "The container ran out of memory (exit 137).";
  if (!j.value("stream", true)) {
    return {200,
            json{{"model", "mistral"},
                 {"created_at", "2026-11-24T10:00:00Z"},
                 {"message", {{"role", "assistant"}, {"content", answer}}},
                 {"done", true},
                 {"done_reason", small ? "length" : "stop"},
                 {"eval_count", 12}}
                .dump(),
            {{"Content-Type", "application/json"}}};
  }
  // Streaming (Ollama's default): one chunk per word, then the final done line, or an error
  // line after output began when the prompt asks for it.
  std::string body;
  std::size_t start = 0;
  while (start < answer.size()) {
    auto sp = answer.find(' ', start);
    auto piece = answer.substr(start, sp == std::string::npos ? std::string::npos : sp + 1 - start);
    start = sp == std::string::npos ? answer.size() : sp + 1;
    body += json{{"model", "mistral"},
                 {"created_at", "2026-11-24T10:00:00Z"},
                 {"message", {{"role", "assistant"}, {"content", piece}}},
                 {"done", false}}
                .dump() +
            "\n";
  }
  if (user.find("FAIL_MIDSTREAM") != std::string::npos) {
    body += R"({"error":"an error was encountered while running the model: unexpected EOF"})"
            "\n";
  } else {
    body += json{{"model", "mistral"},
                 {"created_at", "2026-11-24T10:00:01Z"},
                 {"message", {{"role", "assistant"}, {"content", ""}}},
                 {"done", true},
                 {"done_reason", small ? "length" : "stop"},
                 {"total_duration", 1200000000},
                 {"eval_count", 12}}
                .dump() +
            "\n";
  }
  return {200, body, {{"Content-Type", "application/x-ndjson"}}};
}
}  // namespace

TEST_CASE("Ollama chat: request shape and answer") {
  test::HttpMock server(ollama);
  LlmSettings s;
  s.url = server.url("");
  HttpLlmClient llm(s);
  auto a = llm.chat(kDiagnoseSystemPrompt, diagnose_user_prompt("", "java.lang.OutOfMemoryError"));
  REQUIRE(a.ok());
  CHECK(a->text == "The container ran out of memory (exit 137).");
  CHECK(a->model == "mistral");
  CHECK_FALSE(a->truncated);
  auto req = json::parse(server.requests()[0].body);
  CHECK(server.requests()[0].target == "/api/chat");
  CHECK(req["stream"] == true);
  CHECK(req["options"]["num_ctx"] == 8192);
  CHECK(req["options"]["num_predict"] == 512);
  CHECK(req["options"]["temperature"].get<double>() < 0.3);
  CHECK(req["messages"][0]["role"] == "system");
  auto user = req["messages"][1]["content"].get<std::string>();
  CHECK(user.find("BEGIN EVIDENCE\njava.lang.OutOfMemoryError\nEND EVIDENCE") != std::string::npos);
  auto models = llm.models();
  REQUIRE(models.ok());
  CHECK(models.value() == std::vector<std::string>{"mistral:latest"});
}

TEST_CASE("Ollama chat without streaming") {
  test::HttpMock server(ollama);
  LlmSettings s;
  s.url = server.url("");
  s.stream = false;
  HttpLlmClient llm(s);
  auto a = llm.chat("sys", "user");
  REQUIRE(a.ok());
  CHECK(a->text == "The container ran out of memory (exit 137).");
  CHECK(json::parse(server.requests()[0].body)["stream"] == false);
}

TEST_CASE("Ollama streaming: an error line after output began is an error") {
  test::HttpMock server(ollama);
  LlmSettings s;
  s.url = server.url("");
  HttpLlmClient llm(s);
  auto r = llm.chat("sys", "FAIL_MIDSTREAM please");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "LLM server: an error was encountered while running the model: unexpected EOF (after the "
        "answer had begun)");
}

TEST_CASE("Ollama NDJSON parsing edge cases") {
  CHECK_FALSE(parse_ollama_chat("", "m").ok());
  CHECK_FALSE(parse_ollama_chat("not json\n", "m").ok());
  // Cut before the done line.
  auto cut = parse_ollama_chat(
      "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"message\":{\"content\":\"b\"},\"done\":"
      "false}\n",
      "m");
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().message.find("ended before done") != std::string::npos);
  auto ok = parse_ollama_chat(
      "{\"model\":\"x\",\"message\":{\"content\":\"a\"},\"done\":false}\r\n\n{\"message\":{"
      "\"content\":\"b\"},\"done\":true,\"done_reason\":\"length\"}",
      "m");
  REQUIRE(ok.ok());
  CHECK(ok->text == "ab");
  CHECK(ok->model == "x");
  CHECK(ok->truncated);
}

TEST_CASE("Ollama errors: model not found and truncation") {
  test::HttpMock server(ollama);
  LlmSettings s;
  s.url = server.url("");
  s.model = "llama3:8b";
  HttpLlmClient missing(s);
  auto r = missing.chat("sys", "user");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "LLM server: HTTP 404: model 'llama3:8b' not found");
  s.model = "mistral";
  s.num_predict = 8;
  HttpLlmClient small(s);
  auto t = small.chat("sys", "user");
  REQUIRE(t.ok());
  CHECK(t->truncated);
}

TEST_CASE("a down server fails clearly and the circuit opens") {
  LlmSettings s;
  s.url = "http://127.0.0.1:1";  // nothing listens there
  s.timeout = std::chrono::milliseconds(2000);
  HttpLlmClient llm(s);
  for (int i = 0; i < 3; ++i) {
    auto r = llm.chat("sys", "user");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("LLM server unreachable at http://127.0.0.1:1") == 0);
  }
  auto r = llm.chat("sys", "user");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("circuit open") != std::string::npos);
}

TEST_CASE("cancel_all ends a chat the LLM server never answers, without blaming the server") {
  // SIGTERM with a diagnosis in flight: the pool thread must come back long before the timeout.
  test::HttpMock hung([](const test::MockRequest&) {
    test::MockResponse r;
    r.hang = true;
    return r;
  });
  prometheus::Registry registry;
  PeerErrors peer_errors(registry);
  LlmSettings s;
  s.url = hung.url("");
  s.timeout = std::chrono::milliseconds(120'000);
  HttpLlmClient llm(s, &peer_errors);
  auto call = std::async(std::launch::async, [&] { return llm.chat("sys", "user"); });
  REQUIRE(test::eventually([&] { return hung.count() == 1; }));
  // Still waiting for the server (not some early failure).
  REQUIRE(call.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  auto t0 = std::chrono::steady_clock::now();
  llm.cancel_all();
  // Within a few kCancelLatency; the bound is generous for a loaded CI machine, and far below
  // the 120 s timeout the call would otherwise take.
  REQUIRE(call.wait_for(std::chrono::seconds(3)) == std::future_status::ready);
  auto r = call.get();
  auto cancel_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  CHECK(cancel_ms < 3000);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("cancelled") != std::string::npos);
  for (auto f : {PeerFault::kTransport, PeerFault::kTimeout})
    CHECK(peer_errors.value(Peer::kLlm, f) == 0);
  // Later calls fail at once, without a request; the model listing too.
  auto again = llm.chat("sys", "user");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message.find("cancelled") != std::string::npos);
  CHECK_FALSE(llm.models().ok());
  CHECK(hung.count() == 1);
}

TEST_CASE("OpenAI-compatible chat completions") {
  test::HttpMock server([](const test::MockRequest& r) -> test::MockResponse {
    if (r.target != "/v1/chat/completions")
      return {404, R"({"error":{"message":"not found","type":"not_found_error"}})", {}};
    auto j = json::parse(r.body);
    CHECK(j["max_tokens"] == 512);
    return {
        200,
        R"({"id":"chatcmpl-1","object":"chat.completion","model":"mistral","choices":[{"index":0,"message":{"role":"assistant","content":"unclear"},"finish_reason":"stop"}]})",
        {}};
  });
  LlmSettings s;
  s.url = server.url("");
  s.openai_compatible = true;
  HttpLlmClient llm(s);
  auto a = llm.chat("sys", "user");
  REQUIRE(a.ok());
  CHECK(a->text == "unclear");
}
