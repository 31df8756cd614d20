// PagerDuty Events API v2: the rendered events (shape, bounds, lifecycle), delivery through the
// dispatcher to a strict fake PagerDuty, hostile answers (garbage 2xx, absurd Retry-After,
// resets), the routing key kept out of files and errors, and the outbox across a restart.
#include <catch2/catch.hpp>

#include <atomic>

#include "core/peer_errors.h"
#include "core/text.h"
#include "diagnosis/tests/hostile_peer.h"
#include "notifiers/dispatcher.h"
#include "notifiers/pagerduty.h"
#include "notifiers/tests/fake_pagerduty.h"
#include "notifiers/tests/support.h"
#include "tests/http_mock.h"

using namespace podmedic;
using namespace podmedic::notifiers;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;
using test::FakePagerDuty;
using test::HttpMock;
using test::MockRequest;
using test::MockResponse;

namespace {

incidents::Incident pd_incident() {
  auto i = test::paged_incident("java.lang.OutOfMemoryError: Java heap space");
  i.changes.push_back({"image", "app", Redacted::from_state("shop/cart:1.4"),
                       Redacted::from_state("shop/cart:1.5")});
  return i;
}

PagerDutySettings settings(const std::string& url, const std::string& key = FakePagerDuty::kKey) {
  PagerDutySettings s;
  s.name = "pd";
  s.routing_key = key;
  s.url = url;
  s.timeout = 2000ms;
  return s;
}

std::string facts(const incidents::Incident& i) {
  return test::oom_facts(i);
}

json only(const std::vector<Payload>& ps) {
  REQUIRE(ps.size() == 1);
  return json::parse(ps[0].body);
}

struct Env : test::DispatcherEnv {
  Env() : DispatcherEnv("pagerduty", 200ms) {}
  PeerErrors peers{registry};
};

}  // namespace

TEST_CASE("a PagerDuty trigger has the Events API v2 shape, without the routing key") {
  auto inc = pd_incident();
  auto s = settings("http://127.0.0.1:1/v2/enqueue");
  s.external_url = "https://podmedic.example";
  PagerDutyNotifier pd(s);
  auto ps = pd.render({incidents::EventType::kOpened, {&inc}, facts});
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].event == "incident.opened");
  CHECK(ps[0].thread == inc.id);
  // The secret is added by send(): never in what the outbox and the HA mirror keep.
  CHECK(ps[0].body.find(FakePagerDuty::kKey) == std::string::npos);
  json j = json::parse(ps[0].body);
  CHECK_FALSE(j.contains("routing_key"));
  CHECK(j["event_action"] == "trigger");
  CHECK(j["dedup_key"] == inc.id);
  CHECK(j["client"] == "podmedic");
  CHECK(j["client_url"] == "https://podmedic.example/#" + inc.id);
  CHECK(j["links"] == json::array({{{"href", inc.runbook_url}, {"text", "Runbook"}}}));
  auto& p = j["payload"];
  CHECK(p["summary"] == "[prod-eu-1] OOMKilled: shop/cart (app, 1 pod, 4 restarts)");
  CHECK(p["source"] == "prod-eu-1");
  CHECK(p["severity"] == "critical");
  CHECK(p["timestamp"] == "2026-09-21T14:13:20Z");
  CHECK(p["component"] == "Deployment/cart");
  CHECK(p["group"] == "shop");
  CHECK(p["class"] == "OOMKilled");
  auto& d = p["custom_details"];
  CHECK(d["facts"] == facts(inc));
  CHECK(d["diagnosis"]["source"] == "rules");
  CHECK(d["pods"] == json::array({"cart-abc"}));
  CHECK(d["changes"] == json::array({{{"field", "image"},
                                      {"container", "app"},
                                      {"from", "shop/cart:1.4"},
                                      {"to", "shop/cart:1.5"}}}));
  CHECK(d["keyEvidence"] == "java.lang.OutOfMemoryError: Java heap space");
  CHECK(d["exitCode"] == 137);

  // Without a runbook or server.externalUrl: no links, no client_url.
  inc.runbook_url.clear();
  json bare = only(PagerDutyNotifier(settings("http://x/"))
                       .render({incidents::EventType::kOpened, {&inc}, facts}));
  CHECK_FALSE(bare.contains("links"));
  CHECK_FALSE(bare.contains("client_url"));
}

TEST_CASE("PagerDuty severities: ours map one to one, anything else falls back to the default") {
  auto inc = pd_incident();
  for (const char* s : {"critical", "warning", "info"}) {
    inc.severity = s;
    CHECK(pagerduty_severity(inc) == s);
  }
  inc.severity = "";
  CHECK(pagerduty_severity(inc) == "critical");  // OOMKilled
  inc.reason = "CrashLoopBackOff";
  inc.severity = "bogus";
  CHECK(pagerduty_severity(inc) == "warning");
}

TEST_CASE("the PagerDuty lifecycle: late diagnosis re-triggers, resolution resolves") {
  auto inc = pd_incident();
  PagerDutyNotifier pd(settings("http://x/"));
  inc.diagnosis =
      Redacted::from_state("The JVM heap (-Xmx512m) exceeds the 256Mi limit.\nRaise it.");
  inc.diagnosis_model = "mistral";
  json d = only(pd.render({incidents::EventType::kDiagnosed, {&inc}, facts}));
  CHECK(d["event_action"] == "trigger");
  CHECK(d["dedup_key"] == inc.id);
  CHECK(d["payload"]["summary"] ==
        "Diagnosis: [prod-eu-1] OOMKilled: shop/cart (app, 1 pod, 4 restarts): The JVM heap "
        "(-Xmx512m) exceeds the 256Mi limit.");
  CHECK(d["payload"]["custom_details"]["diagnosis"] ==
        json{{"text", inc.diagnosis.str()}, {"model", "mistral"}, {"source", "llm"}});

  CHECK(pd.render({incidents::EventType::kReminder, {&inc}, facts}).empty());

  inc.state = incidents::Incident::State::kResolved;
  json r = only(pd.render({incidents::EventType::kResolved, {&inc}, facts}));
  CHECK(r == json{{"event_action", "resolve"}, {"dedup_key", inc.id}});
  // A diagnosis arriving after the resolution would open a new alert: not sent.
  CHECK(pd.render({incidents::EventType::kDiagnosed, {&inc}, facts}).empty());

  // A storm digest: one trigger per incident, each resolvable by its own key.
  std::vector<incidents::Incident> storm;
  for (int i = 0; i < 12; ++i) storm.push_back(pd_incident());
  std::vector<const incidents::Incident*> ptrs;
  for (int i = 0; i < 12; ++i) {
    storm[i].id = "id-" + std::to_string(i);
    ptrs.push_back(&storm[i]);
  }
  auto ps = pd.render({incidents::EventType::kDigest, ptrs, facts});
  REQUIRE(ps.size() == 12);
  for (int i = 0; i < 12; ++i) {
    json t = json::parse(ps[i].body);
    CHECK(t["dedup_key"] == "id-" + std::to_string(i));
    CHECK(t["payload"]["custom_details"]["storm"] ==
          "one of 12 workloads that started failing in prod-eu-1 within a minute");
  }
  // Routing by namespace.
  auto s = settings("http://x/");
  s.routing.namespaces = {"payments"};
  CHECK(PagerDutyNotifier(s).render({incidents::EventType::kOpened, {&inc}, facts}).empty());
}

TEST_CASE("PagerDuty's bounds hold for huge incidents: summary ≤ 1024 cut at a character") {
  auto inc = pd_incident();
  // 3-byte characters: a byte cut at 1024 would split one.
  std::string big;
  for (int i = 0; i < 600; ++i) big += "\xE2\x82\xAC";  // €
  inc.cluster = big;
  inc.workload.name = std::string(253, 'w');
  for (int i = 0; i < 20000; ++i) inc.all_pods.push_back("cart-" + std::to_string(i));
  inc.evidence = Redacted::from_state(std::string(1 << 20, 'e'));
  inc.diagnosis = Redacted::from_state(std::string(1 << 20, 'd'));
  inc.message = Redacted::from_state(std::string(1 << 20, 'm'));
  for (int i = 0; i < 500; ++i)
    inc.changes.push_back(
        {"env", "app", Redacted::from_state(std::string(100000, 'f')), Redacted::from_state("B")});
  PagerDutyNotifier pd(settings("http://x/"));
  auto ps = pd.render(
      {incidents::EventType::kOpened, {&inc}, [](auto&) { return std::string(1 << 20, 'f'); }});
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].body.size() < PagerDutyNotifier::kMaxEvent);
  json j = json::parse(ps[0].body);
  std::string summary = j["payload"]["summary"];
  CHECK(summary.size() <= PagerDutyNotifier::kMaxSummary);
  CHECK(text::is_valid_utf8(summary));
  CHECK(j["payload"]["custom_details"]["pods"].size() == PagerDutyNotifier::kMaxPods);
  CHECK(j["payload"]["custom_details"]["podCount"] == 20001);
  CHECK(j["payload"]["custom_details"]["changes"].size() == 50);
}

TEST_CASE("against a strict fake PagerDuty: trigger, late diagnosis and resolve are accepted") {
  Env env;
  FakePagerDuty fake;
  HttpMock server([&](const MockRequest& r) { return fake.handle(r); });
  Dispatcher d(env.settings(),
               test::one(std::make_unique<PagerDutyNotifier>(settings(server.url("/v2/enqueue")))),
               facts, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = pd_incident();
  for (int p = 0; p < 500; ++p) inc.all_pods.push_back("cart-" + std::to_string(p));
  inc.cluster = std::string(2000, 'c');  // a summary PagerDuty would refuse uncut
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  inc.diagnosis = Redacted::from_state("The heap outgrew the limit.");
  d.on_incident_event({incidents::EventType::kDiagnosed, {&inc}});
  inc.state = incidents::Incident::State::kResolved;
  d.on_incident_event({incidents::EventType::kResolved, {&inc}});
  REQUIRE(eventually([&] { return env.counter("pd", "sent") == 3 && d.pending() == 0; }));
  std::lock_guard l(fake.mu);
  INFO((fake.last_errors.empty() ? "" : fake.last_errors[0]));
  CHECK(fake.invalid == 0);
  REQUIRE(fake.alerts.count(inc.id) == 1);
  const auto& alert = fake.alerts[inc.id];
  CHECK(alert.status == "resolved");
  REQUIRE(alert.log.size() == 3);
  CHECK(alert.log[0]["event_action"] == "trigger");
  CHECK(alert.log[1]["event_action"] == "trigger");
  CHECK(alert.log[1]["payload"]["custom_details"]["diagnosis"]["source"] == "llm");
  CHECK(alert.log[2]["event_action"] == "resolve");
  CHECK(env.peers.value(Peer::kPagerDuty, PeerFault::kWrongType) == 0);
  CHECK(env.peers.value(Peer::kPagerDuty, PeerFault::kMalformed) == 0);
}

TEST_CASE("the strict fake PagerDuty rejects what PagerDuty rejects") {
  FakePagerDuty fake;
  auto post = [&](const json& body) {
    return fake.handle({"/v2/enqueue", {{"content-type", "application/json"}}, body.dump(), {}})
        .status;
  };
  json good = {{"routing_key", FakePagerDuty::kKey},
               {"event_action", "trigger"},
               {"dedup_key", "k"},
               {"payload", {{"summary", "s"}, {"source", "c"}, {"severity", "critical"}}}};
  CHECK(post(good) == 202);  // the control
  auto with = [&](const std::string& ptr, json v) {
    json b = good;
    if (v.is_discarded())
      b.erase(ptr.substr(1));
    else
      b[json::json_pointer(ptr)] = std::move(v);
    return post(b);
  };
  const json gone = json(json::value_t::discarded);
  CHECK(with("/routing_key", gone) == 400);
  CHECK(with("/routing_key", "short") == 400);
  CHECK(with("/routing_key", std::string(32, 'x')) == 400);  // well-formed, not the service's
  CHECK(with("/event_action", "page") == 400);
  CHECK(with("/dedup_key", std::string(256, 'k')) == 400);
  CHECK(with("/dedup_key", 5) == 400);
  CHECK(with("/payload/summary", std::string(1025, 's')) == 400);
  CHECK(with("/payload/severity", "high") == 400);
  CHECK(with("/payload/source", nullptr) == 400);
  CHECK(with("/links", json::array({"https://x"})) == 400);
  CHECK(post({{"routing_key", FakePagerDuty::kKey}, {"event_action", "resolve"}}) == 400);
  CHECK(fake.handle({"/", {{"content-type", "application/json"}}, "[1]", {}}).status == 400);
}

TEST_CASE("PagerDuty 400 is permanent and its error never carries the routing key") {
  Env env;
  // A PagerDuty that echoes what it got in its error (ours never does; a proxy might).
  HttpMock server([](const MockRequest& r) {
    json got = json::parse(r.body);
    json reply = {{"status", "invalid event"},
                  {"message", "Event object is invalid"},
                  {"errors", json::array({"bad key " + got["routing_key"].get<std::string>()})}};
    return MockResponse{400, reply.dump(), {}};
  });
  PagerDutyNotifier pd(settings(server.url("/v2/enqueue")));
  auto inc = pd_incident();
  auto ps = pd.render({incidents::EventType::kOpened, {&inc}, facts});
  auto r = pd.send(ps.at(0), "d1", nullptr);
  CHECK(r.outcome == Outcome::kPermanent);
  CHECK(r.status == 400);
  CHECK(r.detail.find(FakePagerDuty::kKey) == std::string::npos);
  CHECK(r.detail.find("Event object is invalid: bad key <routing key>") != std::string::npos);
  // The key did go to PagerDuty, in the body.
  CHECK(json::parse(server.requests().at(0).body)["routing_key"] == FakePagerDuty::kKey);

  Dispatcher d(env.settings(),
               test::one(std::make_unique<PagerDutyNotifier>(settings(server.url("/v2/enqueue")))),
               facts, &env.registry);
  REQUIRE(d.start().ok());
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("pd", "failed") == 1; }));
  CHECK(server.count() == 2);  // never retried
  CHECK(env.counter("pd", "retry") == 0);
}

TEST_CASE("PagerDuty 429 and 5xx are retried, honouring Retry-After up to the cap") {
  Env env;
  FakePagerDuty fake;
  std::atomic<int> calls{0};
  HttpMock server([&](const MockRequest& r) {
    int n = ++calls;
    if (n == 1) return MockResponse{429, R"({"status":"throttle event"})", {{"Retry-After", "1"}}};
    if (n == 2) return MockResponse{503, "unavailable", {}};
    return fake.handle(r);
  });
  Dispatcher d(env.settings(),
               test::one(std::make_unique<PagerDutyNotifier>(settings(server.url("/v2/enqueue")))),
               facts, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = pd_incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("pd", "sent") == 1; }, 10s));
  CHECK(env.counter("pd", "retry") == 2);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  // Retry-After: 1 s asked, our cap (200 ms, jittered) honoured instead.
  CHECK(reqs[1].at - reqs[0].at < 1s);
  CHECK(env.peers.value(Peer::kPagerDuty, PeerFault::kStatus) == 1);  // the 503; a 429 is expected
}

TEST_CASE("hostile PagerDuty answers: garbage 2xx delivered once and counted, resets retried") {
  struct Case {
    MockResponse answer;
    PeerFault fault;
  };
  for (const Case& c : {
           Case{{202, "\xff\xfe not json", {}}, PeerFault::kMalformed},
           Case{{202, std::string(5u << 20, '{'), {}}, PeerFault::kMalformed},
           Case{{200, R"({"status":["success"]})", {}}, PeerFault::kWrongType},
           Case{{202, R"({"status":"throttled"})", {}}, PeerFault::kWrongType},
           Case{{202, "null", {}}, PeerFault::kWrongType},
       }) {
    INFO(c.answer.body.substr(0, 40));
    Env env;
    HttpMock server([&](const MockRequest&) { return c.answer; });
    Dispatcher d(
        env.settings(),
        test::one(std::make_unique<PagerDutyNotifier>(settings(server.url("/v2/enqueue")))), facts,
        &env.registry);
    REQUIRE(d.start().ok());
    auto inc = pd_incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("pd", "sent") == 1 && d.pending() == 0; }));
    CHECK(server.count() == 1);  // a 2xx is never re-posted (it could page twice)
    CHECK(env.peers.value(Peer::kPagerDuty, c.fault) == 1);
  }
  // An absurd Retry-After is a bad header and never parks the queue.
  {
    Env env;
    FakePagerDuty fake;
    std::atomic<int> calls{0};
    HttpMock server([&](const MockRequest& r) {
      return ++calls == 1 ? MockResponse{429, "", {{"Retry-After", "99999999999999999999"}}}
                          : fake.handle(r);
    });
    Dispatcher d(
        env.settings(),
        test::one(std::make_unique<PagerDutyNotifier>(settings(server.url("/v2/enqueue")))), facts,
        &env.registry);
    REQUIRE(d.start().ok());
    auto inc = pd_incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("pd", "sent") == 1; }, 5s));
    CHECK(env.peers.value(Peer::kPagerDuty, PeerFault::kBadHeader) == 1);
  }
  // Connection resets: retried, counted as transport faults of the pagerduty peer.
  Env env;
  test::HostilePeer peer(test::HostilePeer::Mode::kReset, "HTTP/1.1 202 Accepted\r\n\r\n", "x",
                         20ms);
  auto s = settings(peer.url());
  s.timeout = 300ms;
  Dispatcher d(env.settings(), test::one(std::make_unique<PagerDutyNotifier>(s)), facts,
               &env.registry);
  REQUIRE(d.start().ok());
  auto inc = pd_incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("pd", "retry") >= 2; }, 10s));
  d.stop();
  CHECK(d.pending() == 1);
  CHECK(env.peers.value(Peer::kPagerDuty, PeerFault::kTransport) >= 2);
  CHECK(env.peers.value(Peer::kWebhook, PeerFault::kTransport) == 0);
}

TEST_CASE("PagerDuty replies are read without trusting them") {
  CHECK(parse_pagerduty_reply(R"({"status":"success","message":"Event processed"})").status ==
        "success");
  CHECK_FALSE(parse_pagerduty_reply(R"({"status":"success"})").fault);
  auto invalid = parse_pagerduty_reply(
      R"({"status":"invalid event","message":"Event object is invalid","errors":["a",7,null,"b"]})");
  CHECK(invalid.detail == "Event object is invalid: a; b");
  for (const char* body : {"", "{", "\xc3\x28", "[]", "null", "123456789012345678901234567890",
                           R"({"status":null})", R"({"status":1e999})", R"({"status":{}})"}) {
    INFO(body);
    auto r = parse_pagerduty_reply(body);
    CHECK(r.fault.has_value());
    CHECK(text::is_valid_utf8(r.detail));
  }
  // Huge errors, invalid UTF-8 inside strings: bounded, valid text.
  json huge = {{"status", "invalid event"},
               {"message", std::string(1 << 20, 'm')},
               {"errors", json::array({std::string(1 << 20, 'e')})}};
  auto h = parse_pagerduty_reply(huge.dump());
  CHECK(h.detail.size() <= 400);
  auto bad = parse_pagerduty_reply("{\"status\":\"ok\xff\",\"message\":\"x\xc3\"}");
  CHECK(text::is_valid_utf8(bad.detail));
  CHECK(text::is_valid_utf8(bad.status));
}

TEST_CASE("undelivered PagerDuty events survive a restart, and the outbox holds no routing key") {
  Env env;
  HttpMock down([](const MockRequest&) { return MockResponse{503, "maintenance", {}}; });
  auto inc = pd_incident();
  {
    Dispatcher d(env.settings(),
                 test::one(std::make_unique<PagerDutyNotifier>(settings(down.url("/v2/enqueue")))),
                 facts, &env.registry);
    REQUIRE(d.start().ok());
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("pd", "retry") >= 1; }));
  }
  std::string outbox = test::read_file(env.dir / "outbox-pd.json");
  CHECK(outbox.find(inc.id) != std::string::npos);
  CHECK(outbox.find(FakePagerDuty::kKey) == std::string::npos);

  FakePagerDuty fake;
  HttpMock up([&](const MockRequest& r) { return fake.handle(r); });
  Dispatcher d(env.settings(),
               test::one(std::make_unique<PagerDutyNotifier>(settings(up.url("/v2/enqueue")))),
               facts, &env.registry);
  REQUIRE(d.start().ok());
  REQUIRE(eventually([&] { return d.pending() == 0 && up.count() == 1; }));
  std::lock_guard l(fake.mu);
  CHECK(fake.alerts[inc.id].status == "triggered");
  CHECK(fake.invalid == 0);
}
