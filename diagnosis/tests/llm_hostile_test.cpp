// The LLM client against hostile servers: wrong JSON types in OpenAI-compatible and Ollama
// replies (each once an uncaught nlohmann type_error, i.e. an abort), HTTP 200 with garbage, an
// endless slow drip, a huge body, a connection reset, absurd Retry-After; credentials in the URL
// never appear in an error; every unusable reply is counted once under peer="llm".
#include <catch2/catch.hpp>

#include <prometheus/registry.h>

#include "core/peer_errors.h"
#include "diagnosis/llm.h"
#include "diagnosis/tests/hostile_peer.h"
#include "tests/http_mock.h"

using namespace podmedic;
using namespace podmedic::diagnosis;
using namespace std::chrono_literals;

namespace {

struct Counted {
  prometheus::Registry registry;
  PeerErrors errors{registry};
  double operator()(PeerFault f) const { return errors.value(Peer::kLlm, f); }
  double total() const {
    double n = 0;
    for (auto f :
         {PeerFault::kTransport, PeerFault::kTimeout, PeerFault::kStatus, PeerFault::kMalformed,
          PeerFault::kWrongType, PeerFault::kBadHeader, PeerFault::kOversized})
      n += errors.value(Peer::kLlm, f);
    return n;
  }
};

std::string choice(const std::string& message, const std::string& extra = "") {
  return R"({"model":"m","choices":[{"index":0,"message":)" + message + extra + "}]}";
}

LlmSettings settings(const std::string& url, bool openai) {
  LlmSettings s;
  s.url = url;
  s.openai_compatible = openai;
  s.timeout = 2000ms;
  return s;
}

}  // namespace

TEST_CASE("OpenAI reply parsing: wrong types are error values, never an abort") {
  PeerFault fault = PeerFault::kTransport;
  // vLLM: a reasoning model that spent its budget, or a tool call, answers content null.
  auto null_content =
      parse_openai_chat(choice(R"({"role":"assistant","content":null,"reasoning_content":"hmm"})",
                               R"(,"finish_reason":"length")"),
                        "m", &fault);
  REQUIRE_FALSE(null_content.ok());
  CHECK(null_content.error().message.find("LLM returned no text") == 0);
  CHECK(null_content.error().message.find("null") != std::string::npos);
  CHECK(null_content.error().message.find("max_tokens") != std::string::npos);
  CHECK(fault == PeerFault::kWrongType);

  // Content as an array of parts: the text parts are joined, others skipped.
  auto parts = parse_openai_chat(
      choice(
          R"({"content":[{"type":"text","text":"a "},{"type":"image_url","image_url":{}},"b",{"type":"text","text":7},{"type":"text","text":"c"}]})"),
      "m");
  REQUIRE(parts.ok());
  CHECK(parts->text == "a bc");

  // finish_reason of the wrong type: not truncated, the answer still counts.
  auto reason = parse_openai_chat(choice(R"({"content":"ok"})", R"(,"finish_reason":5)"), "m");
  REQUIRE(reason.ok());
  CHECK(reason->text == "ok");
  CHECK_FALSE(reason->truncated);

  // A model name of the wrong type falls back to ours; "error": null is no error.
  auto model = parse_openai_chat(
      R"({"model":42,"error":null,"choices":[{"message":{"content":"x"}}]})", "mine");
  REQUIRE(model.ok());
  CHECK(model->model == "mine");

  struct Bad {
    const char* body;
    PeerFault fault;
    const char* says;
  };
  for (const Bad& b : {
           Bad{R"({"choices":{"0":{"message":{"content":"x"}}}})", PeerFault::kWrongType,
               "no choices"},
           Bad{R"({"choices":[]})", PeerFault::kWrongType, "no choices"},
           Bad{R"({"choices":["x"]})", PeerFault::kWrongType, "not an object"},
           Bad{R"({"choices":[{"message":"hi"}]})", PeerFault::kWrongType, "message"},
           Bad{R"({"choices":[{"message":{"content":""}}]})", PeerFault::kWrongType,
               "LLM returned no text"},
           Bad{R"({"choices":[{"message":{"content":{"text":"x"}}}]})", PeerFault::kWrongType,
               "LLM returned no text"},
           Bad{R"({"choices":[{"message":{}}]})", PeerFault::kWrongType, "absent"},
           Bad{R"({"error":{"message":"model not loaded"}})", PeerFault::kStatus,
               "model not loaded"},
           Bad{R"({"error":[1,2]})", PeerFault::kStatus, "[1,2]"},
           Bad{R"([1,2,3])", PeerFault::kWrongType, "an array"},
           Bad{"<html>502</html>", PeerFault::kMalformed, "malformed"},
           Bad{"", PeerFault::kMalformed, "malformed"},
       }) {
    INFO(b.body);
    PeerFault f = PeerFault::kTransport;
    auto r = parse_openai_chat(b.body, "m", &f);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(b.says) != std::string::npos);
    CHECK(f == b.fault);
  }
}

TEST_CASE("Ollama reply parsing: wrong types are error values, never an abort") {
  // done:"true" is not done (and not an abort); a single object needs no done line.
  auto single =
      parse_ollama_chat(R"({"message":{"content":"hi"},"done":"true","error":null})", "m");
  REQUIRE(single.ok());
  CHECK(single->text == "hi");
  // In a stream, a wrong-typed done never ends the answer.
  auto stream = parse_ollama_chat(
      "{\"message\":{\"content\":\"a\"},\"done\":false}\n"
      "{\"message\":{\"content\":\"b\"},\"done\":\"true\",\"done_reason\":7}\n",
      "m");
  REQUIRE_FALSE(stream.ok());
  CHECK(stream.error().message.find("ended before done") != std::string::npos);
  // "error": null is not an error; content of the wrong type adds nothing.
  auto mixed = parse_ollama_chat(
      "{\"model\":[],\"error\":null,\"message\":{\"content\":42},\"done\":false}\n"
      "{\"message\":\"x\",\"done\":false}\n"
      "{\"message\":{\"content\":\"ok\"},\"done\":true,\"done_reason\":null}\n",
      "m");
  REQUIRE(mixed.ok());
  CHECK(mixed->text == "ok");
  CHECK(mixed->model == "m");
  CHECK_FALSE(mixed->truncated);
  // Only wrong-typed content: no text is an error.
  PeerFault f = PeerFault::kTransport;
  auto none = parse_ollama_chat(
      "{\"message\":{\"content\":null},\"done\":true,\"done_reason\":\"length\"}\n", "m", &f);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == "LLM returned no text (the model hit num_predict)");
  CHECK(f == PeerFault::kWrongType);
  // A line that is JSON but not an object, and an error object.
  CHECK_FALSE(parse_ollama_chat("[1]\n", "m", &f).ok());
  CHECK(f == PeerFault::kWrongType);
  auto err = parse_ollama_chat("{\"error\":{\"message\":\"boom\"}}\n", "m", &f);
  REQUIRE_FALSE(err.ok());
  CHECK(err.error().message == "LLM server: boom");
  CHECK(f == PeerFault::kStatus);
}

TEST_CASE("model listings with wrong types") {
  auto ok = parse_models(R"({"models":[{"name":"a"},{"name":5},"b",null,{"name":"c"}]})", false);
  REQUIRE(ok.ok());
  CHECK(ok.value() == std::vector<std::string>{"a", "c"});
  auto oa = parse_models(R"({"object":"list","data":[{"id":"x"},{"id":null}]})", true);
  REQUIRE(oa.ok());
  CHECK(oa.value() == std::vector<std::string>{"x"});
  PeerFault f = PeerFault::kTransport;
  CHECK_FALSE(parse_models(R"({"models":{"name":"a"}})", false, &f).ok());
  CHECK(f == PeerFault::kWrongType);
  CHECK_FALSE(parse_models("[]", true, &f).ok());
  CHECK(f == PeerFault::kWrongType);
  CHECK_FALSE(parse_models("not json", true, &f).ok());
  CHECK(f == PeerFault::kMalformed);
}

TEST_CASE("URLs lose their credentials in messages") {
  CHECK(url_without_credentials("http://user:pa55@host:11434/x?y=1") == "http://host:11434/x?y=1");
  CHECK(url_without_credentials("https://tok@host") == "https://host");
  CHECK(url_without_credentials("http://host:1/a@b") == "http://host:1/a@b");
  CHECK(url_without_credentials("u:p@host") == "host");
  CHECK(url_without_credentials("http://host") == "http://host");

  Counted counted;
  // Nothing listens on port 1: the transport error names the server without its credentials.
  HttpLlmClient down(settings("http://admin:hunter2@127.0.0.1:1", false), &counted.errors);
  auto r = down.chat("sys", "user");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("unreachable at http://127.0.0.1:1") != std::string::npos);
  CHECK(r.error().message.find("hunter2") == std::string::npos);
  CHECK(r.error().message.find("admin") == std::string::npos);
  CHECK(counted(PeerFault::kTransport) == 1);
  auto m = down.models();
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().message.find("hunter2") == std::string::npos);

  // A server that echoes the credentials in its error body.
  test::HttpMock echo([](const test::MockRequest&) {
    return test::MockResponse{401, R"({"error":"bad credentials admin:hunter2"})", {}};
  });
  auto url = echo.url("");
  url.insert(url.find("://") + 3, "admin:hunter2@");
  HttpLlmClient echoed(settings(url, true), &counted.errors);
  auto e = echoed.chat("sys", "user");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("HTTP 401") != std::string::npos);
  CHECK(e.error().message.find("hunter2") == std::string::npos);
  CHECK(counted(PeerFault::kStatus) == 1);
}

TEST_CASE("hostile OpenAI-compatible server: every bad reply is an error value and counted") {
  struct Case {
    test::MockResponse response;
    PeerFault fault;
  };
  for (const Case& c : {
           Case{{200, choice(R"({"role":"assistant","content":null})"), {}}, PeerFault::kWrongType},
           Case{{200, R"({"choices":"none"})", {}}, PeerFault::kWrongType},
           Case{{200, "\x89PNG garbage \xff\xfe", {}}, PeerFault::kMalformed},
           Case{{503, "busy", {{"Retry-After", "99999999999999999999"}}}, PeerFault::kStatus},
           Case{{200, std::string(5u << 20, '{'), {}}, PeerFault::kOversized},
       }) {
    Counted counted;
    test::HttpMock server([&](const test::MockRequest&) { return c.response; });
    HttpLlmClient llm(settings(server.url(""), true), &counted.errors);
    auto t0 = std::chrono::steady_clock::now();
    auto r = llm.chat("sys", "user");
    CHECK_FALSE(r.ok());
    CHECK(counted(c.fault) == 1);
    CHECK(counted.total() == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);  // Retry-After is never slept on here
  }
}

TEST_CASE("hostile Ollama server: garbage, wrong types, huge streams, resets") {
  struct Case {
    bool stream;
    test::MockResponse response;
    PeerFault fault;
  };
  std::string huge;
  while (huge.size() < (5u << 20))
    huge += "{\"message\":{\"content\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"},\"done\":false}\n";
  for (const Case& c : {
           Case{false,
                {200, R"({"message":{"content":null},"done":"true"})", {}},
                PeerFault::kWrongType},
           Case{true,
                {200,
                 "{\"message\":{\"content\":[\"a\"]},\"done\":false}\n{\"done\":true,\"error\":"
                 "null}\n",
                 {}},
                PeerFault::kWrongType},
           Case{true, {200, "garbage\n", {}}, PeerFault::kMalformed},
           Case{true, {200, huge, {}}, PeerFault::kOversized},
           Case{false, {500, "{\"error\":5}", {{"Retry-After", "soon"}}}, PeerFault::kStatus},
       }) {
    Counted counted;
    test::HttpMock server([&](const test::MockRequest&) { return c.response; });
    auto s = settings(server.url(""), false);
    s.stream = c.stream;
    HttpLlmClient llm(s, &counted.errors);
    auto r = llm.chat("sys", "user");
    CHECK_FALSE(r.ok());
    CHECK(counted(c.fault) == 1);
    CHECK(counted.total() == 1);
  }

  Counted counted;
  test::HostilePeer reset(test::HostilePeer::Mode::kReset);
  HttpLlmClient llm(settings(reset.url(""), false), &counted.errors);
  auto r = llm.chat("sys", "user");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("unreachable") != std::string::npos);
  CHECK(counted(PeerFault::kTransport) == 1);
}

TEST_CASE("an endless slow drip ends at the configured timeout") {
  for (bool openai : {false, true}) {
    Counted counted;
    test::HostilePeer drip(test::HostilePeer::Mode::kDrip,
                           "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                           "Connection: close\r\n\r\n",
                           "{\"message\":{\"content\":\"a\"},\"done\":false}\n", 20ms);
    auto s = settings(drip.url(""), openai);
    s.timeout = 400ms;
    HttpLlmClient llm(s, &counted.errors);
    auto t0 = std::chrono::steady_clock::now();
    auto r = llm.chat("sys", "user");
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(r.ok());
    CHECK(took >= 350ms);  // it did wait for the drip (libcurl rounds its clock)
    CHECK(took < 3s);
    CHECK(counted(PeerFault::kTimeout) == 1);
    CHECK(counted.total() == 1);
  }
}
