// The dispatcher against hostile receivers and hostile files under state.dir: absurd Retry-After,
// HTTP 200 with garbage or a huge body, Slack Web API replies of the wrong types, connection
// resets, an endless slow drip; outbox and Slack thread files that are valid JSON of the wrong
// types (each once an uncaught nlohmann type_error at start). The dispatcher stays up, delivers or
// retries as the rules say (a 2xx is never re-posted), and counts the peer error.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "core/peer_errors.h"
#include "diagnosis/tests/hostile_peer.h"
#include "notifiers/dispatcher.h"
#include "notifiers/slack.h"
#include "notifiers/tests/support.h"
#include "notifiers/webhook.h"
#include "tests/http_mock.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::notifiers;
using namespace std::chrono_literals;
using test::eventually;
using test::HttpMock;
using test::MockRequest;
using test::MockResponse;
namespace fs = std::filesystem;

namespace {

using test::incident;

struct Env : test::DispatcherEnv {
  Env() : DispatcherEnv("hostile", 200ms) {}
  PeerErrors peers{registry};  // the same series the dispatcher counts into
  double faults(Peer p) const {
    double n = 0;
    for (auto f :
         {PeerFault::kTransport, PeerFault::kTimeout, PeerFault::kStatus, PeerFault::kMalformed,
          PeerFault::kWrongType, PeerFault::kBadHeader, PeerFault::kOversized})
      n += peers.value(p, f);
    return n;
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
  }
  std::size_t set_aside(const std::string& name) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir))
      n += e.path().filename().string().rfind(name + ".corrupt-", 0) == 0;
    return n;
  }
};

using test::one;

std::unique_ptr<Notifier> webhook(const std::string& url,
                                  std::chrono::milliseconds timeout = 2000ms) {
  WebhookSettings s{"pager", url, "", {}};
  s.timeout = timeout;
  return std::make_unique<WebhookNotifier>(s);
}

SlackSettings bot(const std::string& api_url, const std::string& state_dir) {
  SlackSettings s;
  s.name = "bot";
  s.bot_token = "xoxb-test";
  s.channel = "C1";
  s.api_url = api_url;
  s.state_dir = state_dir;
  s.min_interval = 0ms;
  return s;
}

}  // namespace

TEST_CASE("an absurd or garbage Retry-After is a bad header, and never parks the queue") {
  for (const char* header :
       {"99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "soon", "-5", "3600"}) {
    INFO(header);
    Env env;
    std::atomic<int> calls{0};
    HttpMock hook([&](const MockRequest&) {
      return ++calls == 1 ? MockResponse{503, "busy", {{"Retry-After", header}}} : MockResponse{};
    });
    Dispatcher d(env.settings(), one(webhook(hook.url())), nullptr, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    // Delivered on the second try within the dispatcher's own cap (200 ms, jittered ×2), not a
    // day or an hour later.
    REQUIRE(eventually([&] { return env.counter("pager", "sent") == 1; }, 5s));
    auto reqs = hook.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1].at - reqs[0].at < 1s);
    CHECK(env.peers.value(Peer::kWebhook, PeerFault::kStatus) == 1);
    // A valid hour is honoured only up to the cap, and is not a bad header.
    bool usable = std::string(header) == "3600";
    CHECK(env.peers.value(Peer::kWebhook, PeerFault::kBadHeader) == (usable ? 0 : 1));
  }
}

TEST_CASE("a 2xx is delivered whatever its body: garbage and huge bodies are never re-posted") {
  for (std::string body : {std::string("\xff\xfe garbage"), std::string(5u << 20, 'x')}) {
    Env env;
    HttpMock hook([&](const MockRequest&) { return MockResponse{200, body, {}}; });
    Dispatcher d(env.settings(), one(webhook(hook.url())), nullptr, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("pager", "sent") == 1 && d.pending() == 0; }));
    CHECK(hook.count() == 1);
    CHECK(env.faults(Peer::kWebhook) == 0);  // a webhook's reply body means nothing to us
  }
  // A Slack incoming webhook answers "ok": anything else is delivered but counted.
  Env env;
  HttpMock slack([](const MockRequest&) { return MockResponse{200, "<html>proxy</html>", {}}; });
  SlackSettings s{"ops", slack.url(), {}};
  s.min_interval = 0ms;
  Dispatcher d(env.settings(), one(std::make_unique<SlackNotifier>(s)), nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("ops", "sent") == 1; }));
  CHECK(slack.count() == 1);
  CHECK(env.peers.value(Peer::kSlack, PeerFault::kMalformed) == 1);
}

TEST_CASE("Slack bot replies of the wrong types: delivered once, no thread, counted") {
  struct Case {
    std::string reply;
    PeerFault fault;
    bool threads;  // the follow-up threads under the alert
  };
  for (const Case& c : {
           Case{R"({"ok":"true"})", PeerFault::kWrongType, false},
           Case{R"({"ok":1,"ts":"1503435956.000250"})", PeerFault::kWrongType, true},
           Case{R"({"ok":true,"ts":1503435956.000250})", PeerFault::kWrongType, false},
           Case{"<html>502 Bad Gateway</html>", PeerFault::kMalformed, false},
           Case{R"({"ok":true,"ts":")" + std::string(2u << 20, '1') + "\"}", PeerFault::kOversized,
                false},
       }) {
    INFO(c.reply.substr(0, 60));
    Env env;
    std::atomic<int> n{0};
    HttpMock api([&](const MockRequest&) {
      return n++ == 0 ? MockResponse{200, c.reply, {}}
                      : MockResponse{200, R"({"ok":true,"ts":"2.0"})", {}};
    });
    SlackNotifier* slack = nullptr;
    {
      auto notifier = std::make_unique<SlackNotifier>(bot(api.url("/api"), env.dir.string()));
      slack = notifier.get();
      Dispatcher d(env.settings(), one(std::move(notifier)), nullptr, &env.registry);
      REQUIRE(d.start().ok());
      auto inc = incident();
      d.on_incident_event({incidents::EventType::kOpened, {&inc}});
      inc.diagnosis = Redacted::from_state("The heap outgrew the limit.");
      d.on_incident_event({incidents::EventType::kDiagnosed, {&inc}});
      REQUIRE(eventually([&] { return env.counter("bot", "sent") == 2; }));
      CHECK(env.counter("bot", "retry") == 0);
      CHECK(slack->threads().count("id-cart") == (c.threads ? 1u : 0u));
    }
    auto reqs = api.requests();
    REQUIRE(reqs.size() == 2);  // never re-posted
    CHECK((reqs[1].body.find("thread_ts") != std::string::npos) == c.threads);
    CHECK(env.peers.value(Peer::kSlack, c.fault) == 1);
    CHECK(env.faults(Peer::kSlack) == 1);
  }
  // ok:false with an error of the wrong type: a permanent failure, counted.
  Env env;
  HttpMock api([](const MockRequest&) {
    return MockResponse{200, R"({"ok":false,"error":null})", {}};
  });
  Dispatcher d(env.settings(),
               one(std::make_unique<SlackNotifier>(bot(api.url("/api"), env.dir.string()))),
               nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("bot", "failed") == 1; }));
  CHECK(api.count() == 1);
  CHECK(env.peers.value(Peer::kSlack, PeerFault::kWrongType) == 1);
}

TEST_CASE("connection resets and an endless slow drip are retried, counted, and stop cleanly") {
  for (auto mode : {test::HostilePeer::Mode::kReset, test::HostilePeer::Mode::kDrip}) {
    bool drip = mode == test::HostilePeer::Mode::kDrip;
    Env env;
    test::HostilePeer peer(mode, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "x", 20ms);
    Dispatcher d(env.settings(), one(webhook(peer.url(), 300ms)), nullptr, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = incident();
    auto t0 = std::chrono::steady_clock::now();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("pager", "retry") >= 2; }, 10s));
    // A drip never completes: each attempt ends at the 300 ms timeout.
    if (drip) CHECK(std::chrono::steady_clock::now() - t0 >= 550ms);
    d.stop();
    CHECK(d.pending() == 1);  // still owed, in the outbox
    CHECK(env.counter("pager", "sent") == 0);
    auto fault = drip ? PeerFault::kTimeout : PeerFault::kTransport;
    CHECK(env.peers.value(Peer::kWebhook, fault) >= 2);
    CHECK(env.peers.value(Peer::kWebhook, fault) == env.faults(Peer::kWebhook));
  }
}

TEST_CASE("an outbox file of the wrong types is set aside and its valid messages delivered") {
  Env env;
  auto now = std::to_string(std::time(nullptr));
  env.write("outbox-pager.json", R"({"version":1,"notifier":"pager","messages":[
      {"id":5,"event":"incident.opened","body":"{}"},
      {"id":"bad-attempts","body":"{}","attempts":"3","created":)" +
                                     now + R"(},
      {"id":"good","event":"incident.opened","body":"{\"a\":1}","attempts":1,"created":)" +
                                     now + "}]}");
  HttpMock hook([](const MockRequest&) { return MockResponse{}; });
  Dispatcher d(env.settings(), one(webhook(hook.url())), nullptr, &env.registry);
  REQUIRE(d.start().ok());
  REQUIRE(eventually([&] { return env.counter("pager", "sent") == 1 && d.pending() == 0; }));
  REQUIRE(hook.count() == 1);
  CHECK(hook.requests()[0].body == "{\"a\":1}");
  CHECK(hook.requests()[0].headers["x-podmedic-delivery"] == "good");
  CHECK(env.set_aside("outbox-pager.json") == 1);

  // Top levels that do not load: set aside, and the dispatcher starts empty.
  for (const char* text : {R"({"version":"1","messages":[]})", R"({"version":1,"messages":{}})",
                           "[1,2,3]", "{\"version\":1,\"messages\":[{\"id\":\"x\""}) {
    INFO(text);
    Env e;
    e.write("outbox-pager.json", text);
    Dispatcher d2(e.settings(), one(webhook(hook.url())), nullptr, &e.registry);
    REQUIRE(d2.start().ok());
    CHECK(d2.pending() == 0);
    CHECK(e.set_aside("outbox-pager.json") == 1);
  }

  // An HA predecessor's mirror with wrong types: the valid messages are adopted.
  auto adopted =
      d.adopt(nlohmann::json::parse(R"({"pager":[{"id":7},{"id":"m1","body":"{}","created":)" +
                                    now + R"(},{"id":"m2","body":[]}],"other":"x"})"));
  CHECK(adopted == 1);
  CHECK(d.adopt(nlohmann::json::parse(R"({"pager":{"id":"m3"}})")) == 0);
}

TEST_CASE("a Slack thread file of the wrong types is set aside and its valid entries kept") {
  Env env;
  env.write("slack-threads-bot.json", R"({"version":1,"threads":[
      {"incident":"id-a","ts":1503435956.000250},{"incident":["id-b"],"ts":"1.0"},
      {"incident":"id-cart","ts":"1503435956.000250"}]})");
  HttpMock api([](const MockRequest&) {
    return MockResponse{200, R"({"ok":true,"ts":"9.9"})", {}};
  });
  SlackNotifier slack(bot(api.url("/api"), env.dir.string()));
  CHECK(slack.threads() == std::map<std::string, std::string>{{"id-cart", "1503435956.000250"}});
  CHECK(env.set_aside("slack-threads-bot.json") == 1);
  // The kept thread is used: the resolution threads under it.
  auto inc = incident();
  auto payloads = slack.render({incidents::EventType::kResolved, {&inc}, nullptr});
  REQUIRE(payloads.size() == 1);
  auto r = slack.send(payloads[0], "d1", nullptr);
  CHECK(r.outcome == Outcome::kOk);
  CHECK(nlohmann::json::parse(api.requests().at(0).body)["thread_ts"] == "1503435956.000250");

  for (const char* text :
       {R"({"version":1,"threads":{"incident":"a"}})", R"({"version":true})", "{\"ver"}) {
    INFO(text);
    Env e;
    e.write("slack-threads-bot.json", text);
    SlackNotifier s(bot(api.url("/api"), e.dir.string()));
    CHECK(s.threads().empty());
    CHECK(e.set_aside("slack-threads-bot.json") == 1);
  }
}
