// Microsoft Teams (Workflows): the Adaptive Card (shape, escaping of cluster text, the 28 KB bound
// under huge inputs), delivery through the dispatcher to a strict fake Workflows trigger, and
// hostile answers.
#include <catch2/catch.hpp>

#include <atomic>

#include "core/peer_errors.h"
#include "core/text.h"
#include "diagnosis/tests/hostile_peer.h"
#include "notifiers/dispatcher.h"
#include "notifiers/teams.h"
#include "notifiers/tests/fake_teams.h"
#include "notifiers/tests/support.h"
#include "tests/http_mock.h"

using namespace podmedic;
using namespace podmedic::notifiers;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;
using test::FakeTeams;
using test::HttpMock;
using test::MockRequest;
using test::MockResponse;

namespace {

incidents::Incident teams_incident() {
  return test::paged_incident(
      "java.lang.OutOfMemoryError: Java heap space\nWarning BackOff: back-off restarting");
}

TeamsSettings settings(const std::string& url) {
  TeamsSettings s;
  s.name = "oncall";
  s.webhook_url = url;
  s.timeout = 2000ms;
  return s;
}

std::string facts(const incidents::Incident& i) {
  return test::oom_facts(i);
}

json card_of(const Payload& p) {
  json j = json::parse(p.body);
  return j["attachments"][0]["content"];
}

// Every TextBlock text and fact value of a card, one per line.
std::string texts(const json& card) {
  std::string out;
  for (const auto& e : card["body"]) {
    if (e["type"] == "TextBlock") out += e["text"].get<std::string>() + "\n";
    if (e["type"] == "FactSet")
      for (const auto& f : e["facts"]) out += f["value"].get<std::string>() + "\n";
  }
  return out;
}

struct Env : test::DispatcherEnv {
  Env() : DispatcherEnv("teams", 200ms) {}
  PeerErrors peers{registry};
  double faults_total() const {
    double n = 0;
    for (auto f :
         {PeerFault::kTransport, PeerFault::kTimeout, PeerFault::kStatus, PeerFault::kMalformed,
          PeerFault::kWrongType, PeerFault::kBadHeader, PeerFault::kOversized})
      n += peers.value(Peer::kTeams, f);
    return n;
  }
};

}  // namespace

TEST_CASE("a Teams alert is an Adaptive Card 1.4 in a message, with facts, steps and runbook") {
  auto inc = teams_incident();
  auto s = settings("http://127.0.0.1:1/workflows");
  s.external_url = "https://podmedic.example";
  TeamsNotifier teams(s);
  auto ps = teams.render({incidents::EventType::kOpened, {&inc}, facts});
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].event == "incident.opened");
  json j = json::parse(ps[0].body);
  CHECK(j["type"] == "message");
  REQUIRE(j["attachments"].size() == 1);
  CHECK(j["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive");
  json card = card_of(ps[0]);
  CHECK(card["type"] == "AdaptiveCard");
  CHECK(card["version"] == "1.4");
  for (const auto& e : card["body"]) {
    if (e["type"] == "TextBlock") CHECK(e["wrap"] == true);
  }
  CHECK(card["body"][0]["text"] == "OOMKilled: shop/cart");
  CHECK(card["body"][0]["color"] == "Attention");
  json facts_set = card["body"][1]["facts"];
  CHECK(facts_set.size() == 8);
  CHECK(facts_set[0] == json{{"title", "Cluster"}, {"value", "prod-eu-1"}});
  CHECK(facts_set[7] == json{{"title", "Severity"}, {"value", "critical"}});
  std::string all = texts(card);
  CHECK(all.find("Likely cause (rules)") != std::string::npos);
  CHECK(all.find("memory limit 256Mi.") != std::string::npos);
  CHECK(all.find("kubectl \\-n shop describe pod cart\\-abc") == std::string::npos);  // not a list
  CHECK(all.find("kubectl -n shop logs cart-abc -c app --previous") != std::string::npos);
  CHECK(all.find("java.lang.OutOfMemoryError: Java heap space\n") != std::string::npos);
  CHECK(all.find("incident id-cart") != std::string::npos);
  REQUIRE(card["actions"].size() == 2);
  CHECK(card["actions"][0] ==
        json{{"type", "Action.OpenUrl"}, {"title", "Runbook"}, {"url", inc.runbook_url}});
  CHECK(card["actions"][1]["url"] == "https://podmedic.example/#id-cart");

  // The diagnosis, when there is one, leads; the rules-based facts follow.
  inc.diagnosis = Redacted::from_state("The heap outgrew the limit.");
  inc.diagnosis_model = "mistral";
  all = texts(card_of(teams.render({incidents::EventType::kOpened, {&inc}, facts}).at(0)));
  CHECK(all.find("Likely cause (mistral)\nThe heap outgrew the limit.\nFacts (rules)") !=
        std::string::npos);

  // The other events.
  auto diag = teams.render({incidents::EventType::kDiagnosed, {&inc}, facts});
  REQUIRE(diag.size() == 1);
  CHECK(diag[0].event == "incident.diagnosed");
  CHECK(texts(card_of(diag[0])).find("The heap outgrew the limit.") != std::string::npos);
  auto reminder = teams.render({incidents::EventType::kReminder, {&inc}, facts});
  CHECK(card_of(reminder.at(0))["body"][0]["text"] == "Still failing: OOMKilled: shop/cart");
  inc.resolved_at = inc.first_seen + 600;
  auto resolved = teams.render({incidents::EventType::kResolved, {&inc}, facts});
  CHECK(card_of(resolved.at(0))["body"][0]["text"] == "Resolved: OOMKilled: shop/cart");
  CHECK(texts(card_of(resolved.at(0))).find("after 600s") != std::string::npos);
  auto s2 = settings("http://x/");
  s2.routing.reasons = {"CrashLoopBackOff"};
  CHECK(TeamsNotifier(s2).render({incidents::EventType::kOpened, {&inc}, facts}).empty());
}

TEST_CASE("teams_escape: cluster text cannot format, link, list, mention or call functions") {
  CHECK(teams_escape("plain text, 42 items") == "plain text, 42 items");
  CHECK(teams_escape("**bold** _it_") == "\\*\\*bold\\*\\* \\_it\\_");
  CHECK(teams_escape("[click](https://evil.example)") == "\\[click\\]\\(https://evil.example\\)");
  CHECK(teams_escape("<at>Everyone</at>") == "\\<at\\>Everyone\\</at\\>");
  CHECK(teams_escape("&lt;at&gt;") == "\\&lt;at\\&gt;");
  CHECK(teams_escape("{{DATE(2017-02-14T06:00:00Z, SHORT)}}") ==
        "\\{\\{DATE\\(2017-02-14T06:00:00Z, SHORT\\)\\}\\}");
  CHECK(teams_escape("- item\n  + item\n12. first\n3) x\n===") ==
        "\\- item\n\n  \\+ item\n\n12\\. first\n\n3\\) x\n\n\\===");
  CHECK(teams_escape("a-b 1.5 x\\y") == "a-b 1.5 x\\\\y");  // only markers at a line start
  CHECK(teams_escape("crlf\r\nnext") == "crlf\n\nnext");
  // Invalid UTF-8 and control characters: valid text comes out.
  std::string bad = teams_escape("a\xff\xc3 b\x01\x1b[31m");
  CHECK(text::is_valid_utf8(bad));
  CHECK(bad.find('\x1b') == std::string::npos);

  // In a card: a hostile log line keeps no unescaped markup.
  auto inc = teams_incident();
  inc.evidence = Redacted::from_state(
      "<at>Everyone</at> **URGENT** [reset password](https://evil.example) {{TIME(x)}}\n- list");
  inc.message = Redacted::from_state("_x_");
  inc.workload.name = "cart_[x]";
  auto all = texts(card_of(TeamsNotifier(settings("http://x/"))
                               .render({incidents::EventType::kOpened, {&inc}, facts})
                               .at(0)));
  CHECK(all.find("\\<at\\>Everyone\\</at\\> \\*\\*URGENT\\*\\* \\[reset password\\]"
                 "\\(https://evil.example\\) \\{\\{TIME\\(x\\)\\}\\}\n\\- list\n") !=
        std::string::npos);
  CHECK(all.find("<at>") == std::string::npos);
  CHECK(all.find("](") == std::string::npos);
  CHECK(all.find("cart\\_\\[x\\]") != std::string::npos);
}

TEST_CASE("a Teams body stays within 28 KB whatever the incident holds: key lines cut first") {
  auto inc = teams_incident();
  std::string lines;
  for (int i = 0; lines.size() < (1u << 20); ++i)
    lines += "line " + std::to_string(i) + " \"quoted\" \x01 <at>x</at> **y**\n";
  inc.evidence = Redacted::from_state(lines);
  inc.diagnosis = Redacted::from_state("cause " + std::string(200000, 'd'));
  inc.message = Redacted::from_state(std::string(50000, '"'));  // doubles in JSON
  inc.cluster = std::string(5000, 'c');
  inc.workload.name = std::string(253, 'w');
  for (int p = 0; p < 20000; ++p) inc.all_pods.push_back("cart-" + std::to_string(p));
  for (int c = 0; c < 500; ++c)
    inc.changes.push_back(
        {"env", "app", Redacted::from_state(std::string(2000, 'a')), Redacted::from_state("B")});
  TeamsNotifier teams(settings("http://x/"));
  auto huge_facts = [](const incidents::Incident&) { return std::string(100000, 'f'); };
  for (auto type : {incidents::EventType::kOpened, incidents::EventType::kReminder,
                    incidents::EventType::kDiagnosed, incidents::EventType::kResolved}) {
    auto ps = teams.render({type, {&inc}, huge_facts});
    REQUIRE(ps.size() == 1);
    INFO(incidents::to_string(type));
    CHECK(ps[0].body.size() <= TeamsNotifier::kMaxBody);
    json card = card_of(ps[0]);  // still a whole, valid card
    CHECK(card["version"] == "1.4");
    if (type != incidents::EventType::kResolved)
      CHECK(texts(card).find("cause ddd") != std::string::npos);  // the diagnosis survived
  }
  // The full alert: the headline and next steps stay; of the long texts the key lines are the
  // first to go.
  auto all =
      texts(card_of(teams.render({incidents::EventType::kOpened, {&inc}, huge_facts}).at(0)));
  CHECK(all.find("Next steps") != std::string::npos);
  CHECK(all.find("Likely cause") != std::string::npos);

  // A moderate evidence and diagnosis fit whole.
  auto small = teams_incident();
  std::string forty;
  for (int i = 0; i < 40; ++i)
    forty += "line-" + std::to_string(i) + " " + std::string(90, 'e') + "\n";
  small.evidence = Redacted::from_state(forty);
  small.diagnosis = Redacted::from_state(std::string(4000, 'd'));
  auto p = teams.render({incidents::EventType::kOpened, {&small}, facts}).at(0);
  CHECK(p.body.find("line-39 eee") != std::string::npos);
  CHECK(p.body.find(std::string(4000, 'd')) != std::string::npos);

  // A storm digest of 2000 workloads is one card, within the bound.
  std::vector<incidents::Incident> storm(2000, teams_incident());
  std::vector<const incidents::Incident*> ptrs;
  for (auto& i : storm) {
    i.workload.name = std::string(200, 'w');
    ptrs.push_back(&i);
  }
  auto digest = teams.render({incidents::EventType::kDigest, ptrs, facts});
  REQUIRE(digest.size() == 1);
  CHECK(digest[0].body.size() <= TeamsNotifier::kMaxBody);
  CHECK(card_of(digest[0])["body"][0]["text"] == "2000 workloads started failing in prod-eu-1");
  CHECK(texts(card_of(digest[0])).find("more") != std::string::npos);
}

TEST_CASE("against a strict fake Teams Workflows trigger: every card is accepted") {
  Env env;
  FakeTeams fake;
  HttpMock server([&](const MockRequest& r) { return fake.handle(r); });
  Dispatcher d(
      env.settings(),
      test::one(std::make_unique<TeamsNotifier>(settings(server.url("/workflows")))),
      [](auto&) { return std::string(50000, 'f') + " <at>Everyone</at>"; }, &env.registry);
  REQUIRE(d.start().ok());
  std::vector<incidents::Incident> incs;
  for (int i = 0; i < 10; ++i) {
    auto inc = teams_incident();
    inc.id = "id-" + std::to_string(i);
    inc.evidence = Redacted::from_state(std::string(100000, 'e'));
    inc.diagnosis = Redacted::from_state(std::string(60000, 'd'));
    incs.push_back(inc);
  }
  d.on_incident_event({incidents::EventType::kOpened, {&incs[0]}});
  d.on_incident_event({incidents::EventType::kDiagnosed, {&incs[0]}});
  d.on_incident_event({incidents::EventType::kReminder, {&incs[0]}});
  d.on_incident_event({incidents::EventType::kResolved, {&incs[0]}});
  std::vector<const incidents::Incident*> ptrs;
  for (auto& i : incs) ptrs.push_back(&i);
  d.on_incident_event({incidents::EventType::kDigest, ptrs});
  // An Alertmanager alert podmedic diagnosed: a card of its own, escaped and within the limit.
  incidents::AlertDiagnosis alert;
  alert.cluster = "prod-eu-1";
  alert.fingerprint = "feedbeef";
  alert.alertname = Redacted::from_state("KubePodCrashLooping **bold** <at>Everyone</at>");
  alert.ns = "shop";
  alert.pod = "cart-1";
  alert.facts = std::string(50000, 'f');
  alert.diagnosis = Redacted::from_state(std::string(60000, 'd'));
  d.on_alert_diagnosed(alert);
  REQUIRE(eventually([&] { return env.counter("oncall", "sent") == 6 && d.pending() == 0; }));
  std::lock_guard l(fake.mu);
  INFO((fake.rejected.empty() ? "" : fake.rejected[0]));
  CHECK(fake.rejected.empty());
  CHECK(fake.bad_json == 0);
  REQUIRE(fake.cards.size() == 6);
  const std::string alert_text = texts(fake.cards.back());
  CHECK(alert_text.find("KubePodCrashLooping") != std::string::npos);
  CHECK(alert_text.find("<at>") == std::string::npos);
  CHECK(alert_text.find("**bold**") == std::string::npos);
  CHECK(env.faults_total() == 0);
}

TEST_CASE("the strict fake Teams fails what Teams fails") {
  FakeTeams fake;
  auto post = [&](const std::string& body) {
    return fake.handle({"/workflows", {{"content-type", "application/json"}}, body, {}}).status;
  };
  json card = {{"type", "AdaptiveCard"},
               {"version", "1.4"},
               {"body", json::array({{{"type", "TextBlock"}, {"text", "hi"}, {"wrap", true}}})}};
  auto message = [](json c) {
    return json{
        {"type", "message"},
        {"attachments", json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                      {"content", std::move(c)}}})}};
  };
  CHECK(post(message(card).dump()) == 202);
  CHECK(fake.rejected.empty());  // the control
  CHECK(post("not json") == 400);
  json v15 = card;
  v15["version"] = "1.5";
  json no_wrap = card;
  no_wrap["body"][0].erase("wrap");
  json unknown = card;
  unknown["body"][0]["type"] = "Table";
  json big = card;
  big["body"][0]["text"] = std::string(29 * 1024, 'x');
  json legacy = {{"@type", "MessageCard"}, {"text", "old connector"}};
  json hero = message(card);
  hero["attachments"][0]["contentType"] = "application/vnd.microsoft.card.hero";
  for (const json& b :
       {message(v15), message(no_wrap), message(unknown), message(big), legacy, hero}) {
    std::size_t before = fake.rejected.size();
    CHECK(post(b.dump()) == 202);  // Workflows accepts first and fails the run later
    CHECK(fake.rejected.size() > before);
  }
}

TEST_CASE("hostile Teams answers: 2xx bodies mean nothing, 400 is permanent, resets retried") {
  for (const MockResponse& answer :
       {MockResponse{200, "\xff\xfe garbage", {}},
        MockResponse{202, std::string(5u << 20, 'x'), {}}, MockResponse{202, "", {}}}) {
    Env env;
    HttpMock server([&](const MockRequest&) { return answer; });
    Dispatcher d(env.settings(),
                 test::one(std::make_unique<TeamsNotifier>(settings(server.url("/workflows")))),
                 facts, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = teams_incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("oncall", "sent") == 1 && d.pending() == 0; }));
    CHECK(server.count() == 1);
    CHECK(env.faults_total() == 0);
  }
  {
    Env env;
    HttpMock server([](const MockRequest&) {
      return MockResponse{400, R"({"error":{"code":"TriggerInputSchemaMismatch"}})", {}};
    });
    Dispatcher d(env.settings(),
                 test::one(std::make_unique<TeamsNotifier>(settings(server.url("/workflows")))),
                 facts, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = teams_incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("oncall", "failed") == 1; }));
    CHECK(server.count() == 1);
    CHECK(env.peers.value(Peer::kTeams, PeerFault::kStatus) == 1);
  }
  {
    Env env;
    FakeTeams fake;
    std::atomic<int> calls{0};
    HttpMock server([&](const MockRequest& r) {
      return ++calls == 1
                 ? MockResponse{429, "", {{"Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"}}}
                 : fake.handle(r);
    });
    Dispatcher d(env.settings(),
                 test::one(std::make_unique<TeamsNotifier>(settings(server.url("/workflows")))),
                 facts, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = teams_incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return env.counter("oncall", "sent") == 1; }, 5s));
    CHECK(env.peers.value(Peer::kTeams, PeerFault::kBadHeader) == 1);
  }
  Env env;
  test::HostilePeer peer(test::HostilePeer::Mode::kReset, "HTTP/1.1 202 Accepted\r\n\r\n", "x",
                         20ms);
  auto s = settings(peer.url());
  s.timeout = 300ms;
  Dispatcher d(env.settings(), test::one(std::make_unique<TeamsNotifier>(s)), facts, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = teams_incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("oncall", "retry") >= 2; }, 10s));
  d.stop();
  CHECK(d.pending() == 1);
  CHECK(env.peers.value(Peer::kTeams, PeerFault::kTransport) >= 2);
}
