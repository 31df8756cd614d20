// The dispatcher against loopback fake Slack / webhook receivers: headers and signature,
// retries with a stable delivery id, Retry-After, permanent errors, the 1/s Slack pace,
// a hung receiver, and exactly-once delivery across a restart with the outbox.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>

#include <fstream>
#include <sstream>

#include "notifiers/dispatcher.h"
#include "notifiers/slack.h"
#include "notifiers/state.h"
#include "notifiers/tests/support.h"
#include "notifiers/webhook.h"
#include "tests/fake_clock.h"
#include "tests/http_mock.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::notifiers;
using namespace std::chrono_literals;
using test::HttpMock;
using test::MockRequest;
using test::MockResponse;
namespace fs = std::filesystem;
using test::eventually;

namespace {
using test::incident;

struct Env : test::DispatcherEnv {
  Env() : DispatcherEnv("outbox", 100ms) {}
};

using test::one;
}  // namespace

TEST_CASE("webhook delivery carries the event the delivery id and a valid signature") {
  Env env;
  HttpMock hook([](const MockRequest&) { return MockResponse{}; });
  Dispatcher d(
      env.settings(),
      one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "s3cret", {}})),
      [](auto&) { return "facts"; }, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return hook.count() == 1 && d.pending() == 0; }));
  auto r = hook.requests()[0];
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(r.headers["x-podmedic-event"] == "incident.opened");
  CHECK(r.headers["x-podmedic-delivery"].size() == 32);
  CHECK(r.headers["x-podmedic-signature"] == "sha256=" + hmac_sha256_hex("s3cret", r.body));
  CHECK(nlohmann::json::parse(r.body)["incident"]["id"] == "id-cart");
  CHECK(env.counter("pager", "sent") == 1);
}

TEST_CASE("5xx is retried with the same delivery id until it succeeds") {
  Env env;
  std::atomic<int> calls{0};
  HttpMock hook([&](const MockRequest&) {
    return ++calls <= 2 ? MockResponse{503, "busy", {}} : MockResponse{};
  });
  Dispatcher d(env.settings(),
               one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
               nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return hook.count() == 3 && d.pending() == 0; }));
  auto reqs = hook.requests();
  CHECK(reqs[0].headers["x-podmedic-delivery"] == reqs[2].headers["x-podmedic-delivery"]);
  CHECK(env.counter("pager", "retry") == 2);
  CHECK(env.counter("pager", "sent") == 1);
}

TEST_CASE("429 Retry-After is honoured") {
  Env env;
  std::atomic<int> calls{0};
  HttpMock slack([&](const MockRequest&) {
    return ++calls == 1 ? MockResponse{429, "rate_limited", {{"Retry-After", "1"}}}
                        : MockResponse{};
  });
  SlackSettings s{"ops", slack.url(), {}};
  s.min_interval = 0ms;
  auto settings = env.settings();
  settings.backoff.cap = 2s;  // Retry-After is honoured up to the cap
  Dispatcher d(settings, one(std::make_unique<SlackNotifier>(s)), nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return slack.count() == 2; }));
  auto reqs = slack.requests();
  CHECK(reqs[1].at - reqs[0].at >= 950ms);
}

TEST_CASE("Slack 4xx errors are permanent: no_service invalid_blocks") {
  Env env;
  HttpMock slack([](const MockRequest& r) {
    return r.target == "/gone" ? MockResponse{404, "no_service", {}}
                               : MockResponse{400, "invalid_blocks", {}};
  });
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::make_unique<SlackNotifier>(SlackSettings{"gone", slack.url("/gone"), {}}));
  ns.push_back(std::make_unique<SlackNotifier>(SlackSettings{"bad", slack.url("/bad"), {}}));
  Dispatcher d(env.settings(), std::move(ns), nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually(
      [&] { return env.counter("gone", "failed") == 1 && env.counter("bad", "failed") == 1; }));
  CHECK(d.pending() == 0);
  CHECK(slack.count() == 2);  // never retried
}

TEST_CASE("Slack posts are paced at one per second per webhook") {
  Env env;
  HttpMock slack([](const MockRequest&) { return MockResponse{}; });
  Dispatcher d(env.settings(),
               one(std::make_unique<SlackNotifier>(SlackSettings{"ops", slack.url(), {}})), nullptr,
               &env.registry);
  REQUIRE(d.start().ok());
  auto a = incident("a"), b = incident("b"), c = incident("c");
  d.on_incident_event({incidents::EventType::kOpened, {&a}});
  d.on_incident_event({incidents::EventType::kOpened, {&b}});
  d.on_incident_event({incidents::EventType::kOpened, {&c}});
  REQUIRE(eventually([&] { return slack.count() == 3; }));
  auto reqs = slack.requests();
  CHECK(reqs[1].at - reqs[0].at >= 950ms);
  CHECK(reqs[2].at - reqs[1].at >= 950ms);
}

TEST_CASE("a hung receiver times out and the message is retried then delivered") {
  Env env;
  std::atomic<int> calls{0};
  HttpMock hook([&](const MockRequest&) {
    MockResponse r;
    r.hang = ++calls == 1;
    return r;
  });
  WebhookSettings s{"pager", hook.url(), "", {}};
  s.timeout = 300ms;
  Dispatcher d(env.settings(), one(std::make_unique<WebhookNotifier>(s)), nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("pager", "sent") == 1; }));
  CHECK(env.counter("pager", "retry") == 1);
}

TEST_CASE("undelivered messages survive a restart and are delivered exactly once") {
  Env env;
  std::atomic<bool> up{false};
  std::mutex mu;
  std::map<std::string, int> delivered;  // delivery id → 2xx answers
  HttpMock hook([&](const MockRequest& r) {
    if (!up) return MockResponse{503, "down", {}};
    std::lock_guard l(mu);
    ++delivered[r.headers.at("x-podmedic-delivery")];
    return MockResponse{};
  });
  auto inc = incident();
  {
    Dispatcher d(
        env.settings(),
        one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
        nullptr, &env.registry);
    REQUIRE(d.start().ok());
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return hook.count() >= 2; }));  // failing, retrying
    d.stop();                                                // podmedic stops mid-retry
    CHECK(d.pending() == 1);
  }
  CHECK(fs::exists(env.dir / "outbox-pager.json"));
  up = true;
  prometheus::Registry fresh;
  Dispatcher d(env.settings(),
               one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
               nullptr, &fresh);
  REQUIRE(d.start().ok());
  REQUIRE(eventually([&] { return d.pending() == 0; }));
  std::lock_guard l(mu);
  REQUIRE(delivered.size() == 1);
  CHECK(delivered.begin()->second == 1);
  auto first_id = hook.requests()[0].headers["x-podmedic-delivery"];
  CHECK(delivered.begin()->first == first_id);  // the same idempotency key as before the restart
}

namespace {
// A fake Slack incoming webhook that enforces what Slack enforces (protocols.md §6.1): valid
// JSON with text, at most 50 blocks, header ≤ 150 chars, section text ≤ 3000, ≤ 10 fields of
// ≤ 2000 (else 400 invalid_blocks / no_text), and 1 post per second (else 429, Retry-After: 1).
struct FakeSlack {
  std::mutex mu;
  std::chrono::steady_clock::time_point last{};
  int ok = 0, rate_limited = 0, invalid = 0;
  test::MockResponse handle(const test::MockRequest& r) {
    std::lock_guard l(mu);
    auto now = std::chrono::steady_clock::now();
    if (last != std::chrono::steady_clock::time_point{} && now - last < 1s) {
      ++rate_limited;
      return {429, "rate_limited", {{"Retry-After", "1"}}};
    }
    last = now;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object()) return {400, "invalid_payload", {}};
    if (!j.contains("text") || j["text"].get<std::string>().empty()) return {400, "no_text", {}};
    auto& blocks = j["blocks"];
    bool bad = !blocks.is_array() || blocks.size() > 50;
    for (auto& b : blocks) {
      if (b["type"] == "header" && b["text"]["text"].get<std::string>().size() > 150) bad = true;
      if (b.contains("text") && b["text"]["text"].get<std::string>().size() > 3000) bad = true;
      if (b.contains("fields")) {
        bad = bad || b["fields"].size() > 10;
        for (auto& f : b["fields"]) bad = bad || f["text"].get<std::string>().size() > 2000;
      }
    }
    if (bad) {
      ++invalid;
      return {400, "invalid_blocks", {}};
    }
    ++ok;
    return {};
  }
};
}  // namespace

TEST_CASE(
    "against a strict fake Slack: oversized incidents stay within limits and the pace avoids 429") {
  Env env;
  FakeSlack fake;
  HttpMock slack([&](const MockRequest& r) { return fake.handle(r); });
  Dispatcher d(
      env.settings(), one(std::make_unique<SlackNotifier>(SlackSettings{"ops", slack.url(), {}})),
      [](auto&) { return std::string(20000, 'f') + " <!channel>"; }, &env.registry);
  REQUIRE(d.start().ok());
  std::vector<incidents::Incident> incs;
  for (int i = 0; i < 3; ++i) {
    auto inc = incident(std::string(300, 'w') + std::to_string(i));
    inc.message = Redacted::from_state(std::string(50000, 'm'));
    for (int p = 0; p < 500; ++p) inc.all_pods.push_back("pod-" + std::to_string(p));
    incs.push_back(inc);
  }
  for (auto& inc : incs) d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return d.pending() == 0; }));
  std::lock_guard l(fake.mu);
  CHECK(fake.ok == 3);
  CHECK(fake.invalid == 0);
  CHECK(fake.rate_limited == 0);
}

TEST_CASE("the circuit breaker leaves a failing endpoint alone for the cooldown") {
  Env env;
  HttpMock hook([](const MockRequest&) { return MockResponse{500, "boom", {}}; });
  auto s = env.settings();
  s.breaker_threshold = 2;
  s.breaker_cooldown = 1000ms;
  Dispatcher d(s,
               one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
               nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return hook.count() >= 3; }));
  auto reqs = hook.requests();
  CHECK(reqs[1].at - reqs[0].at < 500ms);   // backoff only
  CHECK(reqs[2].at - reqs[1].at >= 950ms);  // breaker open after two consecutive failures
  d.stop();
  CHECK(d.pending() == 1);  // still owed, in the outbox
}

TEST_CASE("Slack bot mode threads the diagnosis and the resolution under the alert") {
  Env env;
  std::atomic<int> n{0};
  HttpMock api([&](const MockRequest& r) -> MockResponse {
    if (r.target != "/api/chat.postMessage") return {404, "", {}};
    if (r.headers.at("authorization") != "Bearer xoxb-test") {
      return {200, R"({"ok":false,"error":"invalid_auth"})", {}};
    }
    auto j = nlohmann::json::parse(r.body);
    if (j["channel"] == "C-missing")
      return {200, R"({"ok":false,"error":"channel_not_found"})", {}};
    if (n++ == 1) {
      return {429, R"({"ok":false,"error":"ratelimited"})", {{"Retry-After", "1"}}};
    }
    // A ts that a double would not survive: it must come back as the exact string.
    return {
        200, R"({"ok":true,"channel":"C1","ts":"1503435956.000250","message":{"text":"x"}})", {}};
  });
  SlackSettings s;
  s.name = "bot";
  s.bot_token = "xoxb-test";
  s.channel = "C1";
  s.api_url = api.url("/api");
  s.state_dir = env.dir.string();
  s.min_interval = 0ms;
  {
    Dispatcher d(env.settings(), one(std::make_unique<SlackNotifier>(s)), nullptr, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = incident();
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    inc.diagnosis = Redacted::from_state("The heap outgrew the limit.");
    inc.diagnosis_model = "mistral";
    d.on_incident_event({incidents::EventType::kDiagnosed, {&inc}});
    REQUIRE(eventually([&] { return env.counter("bot", "sent") == 2; }));
    CHECK(env.counter("bot", "retry") == 1);  // the 429 in between
  }
  auto reqs = api.requests();
  REQUIRE(reqs.size() == 3);
  auto alert = nlohmann::json::parse(reqs[0].body);
  CHECK(alert["channel"] == "C1");
  CHECK_FALSE(alert.contains("thread_ts"));
  auto follow = nlohmann::json::parse(reqs[2].body);
  CHECK(follow["thread_ts"] == "1503435956.000250");
  CHECK(follow["text"].get<std::string>().find("Diagnosis") != std::string::npos);
  CHECK(reqs[2].body.find("The heap outgrew the limit.") != std::string::npos);
  CHECK(reqs[0].headers.at("content-type") == "application/json; charset=utf-8");

  // A restart: the thread is remembered under state.dir, the resolution threads under it.
  {
    Dispatcher d(env.settings(), one(std::make_unique<SlackNotifier>(s)), nullptr, &env.registry);
    REQUIRE(d.start().ok());
    auto inc = incident();
    inc.state = incidents::Incident::State::kResolved;
    inc.resolved_at = inc.first_seen + 60;
    d.on_incident_event({incidents::EventType::kResolved, {&inc}});
    REQUIRE(eventually([&] { return env.counter("bot", "sent") == 3; }));
  }
  auto resolved = nlohmann::json::parse(api.requests().back().body);
  CHECK(resolved["thread_ts"] == "1503435956.000250");

  // Web API errors arrive as HTTP 200 with ok:false: permanent, with Slack's error string.
  s.channel = "C-missing";
  Dispatcher d(env.settings(), one(std::make_unique<SlackNotifier>(s)), nullptr, &env.registry);
  REQUIRE(d.start().ok());
  auto inc = incident("api");
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("bot", "failed") == 1; }));
}

// ---- Shutdown and durability ----

namespace {
bool no_temp_files(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() == ".tmp") return false;
  }
  return true;
}
}  // namespace

TEST_CASE("stop() aborts a delivery to a receiver that never answers and keeps it in the outbox") {
  Env env;
  std::atomic<bool> hang{true};
  HttpMock hook([&](const MockRequest&) {
    MockResponse r;
    r.hang = hang.load();
    return r;
  });
  WebhookSettings ws{"pager", hook.url(), "", {}};
  ws.timeout = 120'000ms;  // without cancellation, stop() would wait this long
  auto inc = incident();
  std::string id;
  {
    Dispatcher d(env.settings(), one(std::make_unique<WebhookNotifier>(ws)), nullptr,
                 &env.registry);
    REQUIRE(d.start().ok());
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return hook.count() == 1; }));  // in flight, hanging
    auto t0 = std::chrono::steady_clock::now();
    d.stop();
    auto stop_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    // SIGTERM must end well within Kubernetes' 30 s grace; the abort itself takes at most
    // http::kCancelLatency (100 ms), the rest is slack for a loaded machine.
    CHECK(stop_ms < 2000);
    CHECK(d.pending() == 1);
    // The aborted attempt is nobody's failure.
    for (const char* outcome : {"sent", "retry", "failed", "dropped", "expired"})
      CHECK(env.counter("pager", outcome) == 0);
    id = hook.requests()[0].headers["x-podmedic-delivery"];
  }
  // Still in the outbox, attempts unchanged.
  auto loaded = parse_outbox(test::read_file(env.dir / "outbox-pager.json"));
  REQUIRE(loaded.ok());
  REQUIRE(loaded->items.size() == 1);
  CHECK(loaded->items[0].id == id);
  CHECK(loaded->items[0].attempts == 0);
  // The next start delivers it, with the same delivery id.
  hang = false;
  prometheus::Registry fresh;
  Dispatcher d(env.settings(), one(std::make_unique<WebhookNotifier>(ws)), nullptr, &fresh);
  REQUIRE(d.start().ok());
  REQUIRE(eventually([&] { return d.pending() == 0 && hook.count() == 2; }));
  CHECK(hook.requests()[1].headers["x-podmedic-delivery"] == id);
}

TEST_CASE("a failed outbox write is retried until it succeeds; a restart then does not redeliver") {
  Env env;
  std::atomic<bool> up{false};
  HttpMock hook([&](const MockRequest&) {
    return up ? MockResponse{} : MockResponse{503, "down", {}};
  });
  auto inc = incident();
  const fs::path aside = env.dir.string() + ".aside";
  {
    Dispatcher d(
        env.settings(),
        one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
        nullptr, &env.registry);
    REQUIRE(d.start().ok());
    d.on_incident_event({incidents::EventType::kOpened, {&inc}});
    REQUIRE(eventually([&] { return hook.count() >= 1; }));  // persisted, failing, retrying
    CHECK(d.state_ok());
    // The state volume goes bad: state.dir is now a file, so nothing under it can be written
    // (and it cannot be re-created either).
    fs::rename(env.dir, aside);
    { std::ofstream(env.dir) << "not a directory"; }
    up = true;
    REQUIRE(eventually([&] { return d.pending() == 0; }));  // delivered; the removal unsaved
    REQUIRE(eventually([&] { return !d.state_ok(); }));
    CHECK(d.state_error().find("outbox-pager.json") != std::string::npos);
    CHECK(test::counter_value(env.registry, "podmedic_state_write_errors_total",
                              {{"file", "outbox"}}) >= 1);
    // The volume comes back (with the outbox that still lists the delivered message): the
    // worker's next retry writes the outbox without it.
    fs::remove(env.dir);
    fs::rename(aside, env.dir);
    REQUIRE(eventually([&] { return d.state_ok(); }, 5s));
    CHECK(d.state_error().empty());
    CHECK(no_temp_files(env.dir));
  }
  auto loaded = parse_outbox(test::read_file(env.dir / "outbox-pager.json"));
  REQUIRE(loaded.ok());
  CHECK(loaded->items.empty());
  const auto before = hook.count();
  prometheus::Registry fresh;
  Dispatcher d(env.settings(),
               one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
               nullptr, &fresh);
  REQUIRE(d.start().ok());
  CHECK(d.pending() == 0);
  d.stop();
  CHECK(hook.count() == before);
}

TEST_CASE("a deleted state.dir is recreated by the next outbox write") {
  Env env;
  HttpMock hook([](const MockRequest&) { return MockResponse{503, "down", {}}; });
  Dispatcher d(env.settings(),
               one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
               nullptr, &env.registry);
  REQUIRE(d.start().ok());
  fs::remove_all(env.dir);
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  CHECK(d.state_ok());
  auto loaded = parse_outbox(test::read_file(env.dir / "outbox-pager.json"));
  REQUIRE(loaded.ok());
  CHECK(loaded->items.size() == 1);
  CHECK(test::counter_value(env.registry, "podmedic_state_write_errors_total",
                            {{"file", "outbox"}}) == 0);
}

TEST_CASE("messages older than outbox_max_age are dropped, counted, and never sent") {
  Env env;
  HttpMock hook([](const MockRequest&) { return MockResponse{}; });
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  OutboxMessage old{"old-1", {"incident.opened", "{}", "id-cart", true}, 3, now - 3 * 3600};
  OutboxMessage fresh{"new-1", {"incident.opened", "{}", "id-web", true}, 0, now - 60};
  {
    std::ofstream f(env.dir / "outbox-pager.json");
    f << nlohmann::json{{"version", 1},
                        {"notifier", "pager"},
                        {"messages", {outbox_message_json(old), outbox_message_json(fresh)}}}
             .dump();
  }
  auto s = env.settings();
  s.outbox_max_age = 2h;  // state.outboxMaxAge
  Dispatcher d(s,
               one(std::make_unique<WebhookNotifier>(WebhookSettings{"pager", hook.url(), "", {}})),
               nullptr, &env.registry);
  REQUIRE(d.start().ok());
  REQUIRE(eventually([&] { return d.pending() == 0; }));
  REQUIRE(hook.count() == 1);
  CHECK(hook.requests()[0].headers["x-podmedic-delivery"] == "new-1");
  CHECK(env.counter("pager", "expired") == 1);
  CHECK(env.counter("pager", "sent") == 1);
}

namespace {
// A receiver that never accepts: every send is a retry. Counts attempts.
class Refusing final : public Notifier {
 public:
  const std::string& name() const override { return name_; }
  std::vector<Payload> render(const Rendering& r) const override {
    return {{incidents::to_string(r.type), "{}", r.incidents.front()->id, true}};
  }
  SendResult send(const Payload&, const std::string&, const http::Cancel*) override {
    ++attempts;
    return {Outcome::kRetry, 503, 0s, "unavailable"};
  }
  std::atomic<int> attempts{0};

 private:
  std::string name_ = "pager";
};
}  // namespace

TEST_CASE("backoff and outbox_max_age run on the dispatcher's clock") {
  Env env;
  test::FakeClock clock;
  auto s = env.settings();
  s.backoff.initial = 10min;  // on a fake clock: no wall-clock wait in this test
  s.backoff.cap = 10min;
  s.outbox_max_age = 2h;
  auto n = std::make_unique<Refusing>();
  Refusing* pager = n.get();
  Dispatcher d(s, one(std::move(n)), nullptr, &env.registry, clock);
  REQUIRE(d.start().ok());
  auto inc = incident();
  d.on_incident_event({incidents::EventType::kOpened, {&inc}});
  REQUIRE(eventually([&] { return env.counter("pager", "retry") == 1; }));
  // The retry (10 to 20 min of backoff) waits for the fake clock, not the wall clock.
  REQUIRE(eventually([&] {
    clock.advance(std::chrono::minutes(1));
    d.wake();
    return env.counter("pager", "retry") == 2;
  }));
  CHECK(pager->attempts == 2);
  // Older than outbox_max_age by the clock: dropped, counted, never sent.
  REQUIRE(eventually([&] {
    clock.advance(std::chrono::minutes(10));
    d.wake();
    return env.counter("pager", "expired") == 1;
  }));
  CHECK(d.pending() == 0);
  CHECK(env.counter("pager", "sent") == 0);
}
