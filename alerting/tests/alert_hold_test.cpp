// AlertHold on a fake clock with a fake tracker and a fake diagnoser: no cluster, no HTTP, no
// real timers. The test plays the diagnoser by calling evidence_ready / diagnosis_ready.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "alerting/alert_hold.h"
#include "sim/objects.h"
#include "tests/fake_clock.h"
#include "tests/fake_scheduler.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::alerting;
using incidents::EventType;
using incidents::Incident;
using namespace std::chrono_literals;

namespace {

// What the notifiers were told, in order.
struct Sent {
  EventType type;
  std::vector<std::string> ids;
  std::string diagnosis, evidence;  // of the first incident
  std::vector<incidents::Change> changes;
};
struct Recorder final : incidents::IncidentSink {
  std::vector<Sent> sent;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    Sent s{e.type, {}, {}, {}};
    for (const auto* i : e.incidents) s.ids.push_back(i->id);
    if (!e.incidents.empty()) {
      s.diagnosis = e.incidents.front()->diagnosis.str();
      s.evidence = e.incidents.front()->evidence.str();
      s.changes = e.incidents.front()->changes;
    }
    sent.push_back(s);
  }
};

// The tracker's side, as IncidentTracker behaves: a diagnosis is attached once, to an open
// incident; mark_alerted clears pending_alert.
struct FakeLedger final : IncidentLedger {
  std::map<std::string, Incident> open;
  std::vector<std::string> alerted;  // mark_alerted calls, in order
  void mark_alerted(const std::string& fp) override {
    alerted.push_back(fp);
    if (auto it = open.find(fp); it != open.end()) it->second.pending_alert = false;
  }
  const Incident* find_open(const std::string& fp) const override {
    auto it = open.find(fp);
    return it == open.end() ? nullptr : &it->second;
  }
  void set_evidence(const std::string& fp, Redacted evidence) override {
    if (auto it = open.find(fp); it != open.end()) it->second.evidence = std::move(evidence);
  }
  void set_changes(const std::string& fp, std::vector<incidents::Change> changes) override {
    if (auto it = open.find(fp); it != open.end()) it->second.changes = std::move(changes);
  }
  const Incident* set_diagnosis(const std::string& fp, Redacted text, std::string model,
                                bool follow_up) override {
    auto it = open.find(fp);
    if (it == open.end() || !it->second.diagnosis.empty() || text.empty()) return nullptr;
    it->second.diagnosis = std::move(text);
    it->second.diagnosis_model = std::move(model);
    // Like the tracker: the follow-up is announced once the state holding the diagnosis is
    // saved (at once when `durable`, else at save()).
    if (follow_up) {
      unsaved.push_back(fp);
      if (durable) save();
    }
    return &it->second;
  }
  void save() {
    auto due = std::move(unsaved);
    unsaved.clear();
    for (const auto& fp : due)
      if (auto it = open.find(fp); it != open.end() && sink)
        sink->on_incident_event({EventType::kDiagnosed, {&it->second}});
  }
  incidents::IncidentSink* sink = nullptr;  // where announcements go (the hold)
  bool durable = true;                      // false: held until save()
  std::vector<std::string> unsaved;         // follow-ups waiting for the save
};

struct Request {
  std::string fingerprint, ns, pod;
  bool opening;
};

struct Env {
  explicit Env(std::chrono::milliseconds wait = 10s)
      : hold(
            HoldSettings{wait}, rec, ledger, scheduler,
            [this](const std::string& fp, const std::string& ns, const std::string& pod,
                   bool opening) {
              requests.push_back({fp, ns, pod, opening});
              if (on_request) on_request(requests.back());
            },
            [this] { ++changes; }) {
    ledger.sink = &hold;
  }

  // An incident the tracker has just opened (and announced, pending confirmation).
  Incident& open(const std::string& name, std::vector<std::string> pods = {}) {
    Incident inc;
    inc.fingerprint = "c/shop/Deployment/" + name + "/app/OOMKilled";
    inc.id = name + "-id";
    inc.ns = "shop";
    inc.all_pods = pods.empty() ? std::vector<std::string>{name + "-0"} : pods;
    inc.pending_alert = true;
    return ledger.open[inc.fingerprint] = inc;
  }
  void announce(EventType type, std::vector<const Incident*> incs) {
    hold.on_incident_event({type, std::move(incs)});
  }
  void opened(const Incident& inc) { announce(EventType::kOpened, {&inc}); }
  void answer(const Incident& inc, const std::string& pod, const std::string& text) {
    hold.diagnosis_ready(inc.fingerprint, pod, true, Redacted::from_state(text), "mistral");
  }
  void fail(const Incident& inc, const std::string& pod) {
    hold.diagnosis_ready(inc.fingerprint, pod, false, Redacted(), "");
  }

  test::FakeClock clock;
  test::FakeScheduler scheduler{clock};
  Recorder rec;
  FakeLedger ledger;
  std::vector<Request> requests;
  std::function<void(const Request&)> on_request;  // the fake diagnoser answering at once
  int changes = 0;
  AlertHold hold;
};

std::vector<EventType> types(const Recorder& r) {
  std::vector<EventType> t;
  for (const auto& s : r.sent) t.push_back(s.type);
  return t;
}

}  // namespace

TEST_CASE("a held alert diagnosed in time goes out with the diagnosis and no follow-up") {
  Env env;
  auto& inc = env.open("cart");
  env.opened(inc);
  CHECK(env.rec.sent.empty());
  CHECK(env.hold.held() == 1);
  CHECK(env.changes == 1);
  REQUIRE(env.requests.size() == 1);
  CHECK(env.requests[0].fingerprint == inc.fingerprint);
  CHECK(env.requests[0].ns == "shop");
  CHECK(env.requests[0].pod == "cart-0");
  CHECK(env.requests[0].opening);

  env.hold.evidence_ready(inc.fingerprint, "cart-0", Redacted::from_state("panic: nil map"));
  env.clock.advance(3s);
  env.answer(inc, "cart-0", "The config map is missing.");
  // Not from inside diagnosis_ready: "now" is after its caller returns.
  CHECK(env.rec.sent.empty());
  env.scheduler.run_due();
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].type == EventType::kOpened);
  CHECK(env.rec.sent[0].ids == std::vector<std::string>{"cart-id"});
  CHECK(env.rec.sent[0].diagnosis == "The config map is missing.");
  CHECK(env.rec.sent[0].evidence == "panic: nil map");
  CHECK(env.ledger.alerted == std::vector<std::string>{inc.fingerprint});
  CHECK_FALSE(env.ledger.open[inc.fingerprint].pending_alert);
  CHECK(env.ledger.open[inc.fingerprint].diagnosis == "The config map is missing.");
  CHECK(env.hold.held() == 0);
  CHECK(env.scheduler.pending() == 0);  // the hold's own timer was cancelled
  // The end of the hold and another pod's answer change nothing.
  env.scheduler.advance(60s);
  env.answer(inc, "cart-1", "Another explanation.");
  env.scheduler.run_due();
  CHECK(env.rec.sent.size() == 1);
}

TEST_CASE("a held alert goes out with the facts when the hold ends; the diagnosis follows once") {
  Env env;
  auto& inc = env.open("cart");
  env.opened(inc);
  env.scheduler.advance(9s);
  CHECK(env.rec.sent.empty());
  CHECK(env.ledger.alerted.empty());
  env.scheduler.advance(1s);
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].type == EventType::kOpened);
  CHECK(env.rec.sent[0].diagnosis.empty());
  CHECK(env.ledger.alerted == std::vector<std::string>{inc.fingerprint});

  const int changes = env.changes;
  env.answer(inc, "cart-0", "Out of memory: the limit is 256Mi.");
  REQUIRE(env.rec.sent.size() == 2);
  CHECK(env.rec.sent[1].type == EventType::kDiagnosed);
  CHECK(env.rec.sent[1].ids == std::vector<std::string>{"cart-id"});
  CHECK(env.rec.sent[1].diagnosis == "Out of memory: the limit is 256Mi.");
  CHECK(env.changes > changes);  // the API shows the diagnosis
  // One follow-up at most.
  env.answer(inc, "cart-1", "Another explanation.");
  env.scheduler.advance(60s);
  CHECK(env.rec.sent.size() == 2);
}

TEST_CASE("the diagnosis follow-up goes out only once the state holding it is saved") {
  Env env;
  auto& inc = env.open("cart");
  env.opened(inc);
  env.scheduler.advance(10s);
  REQUIRE(env.rec.sent.size() == 1);  // the alert, facts only
  env.ledger.durable = false;         // the state write is slow
  env.answer(inc, "cart-0", "Out of memory: the limit is 256Mi.");
  CHECK(env.rec.sent.size() == 1);  // not before the save: a crash now must not lose the record
  CHECK(env.ledger.open[inc.fingerprint].diagnosis.str() == "Out of memory: the limit is 256Mi.");
  env.ledger.save();
  REQUIRE(env.rec.sent.size() == 2);
  CHECK(env.rec.sent[1].type == EventType::kDiagnosed);
  CHECK(env.rec.sent[1].diagnosis == "Out of memory: the limit is 256Mi.");
}

TEST_CASE("a resolution that arrives while its alert is held goes out after the alert") {
  Env env;
  auto& inc = env.open("cart");
  auto& other = env.open("api");
  env.opened(inc);
  env.opened(other);
  Incident resolved = inc;
  resolved.state = Incident::State::kResolved;
  env.ledger.open.erase(resolved.fingerprint);  // `inc` is gone with it
  env.announce(EventType::kResolved, {&resolved});
  CHECK(env.rec.sent.empty());

  SECTION("when the hold ends") {
    env.scheduler.advance(10s);
    REQUIRE(types(env.rec) ==
            std::vector<EventType>{EventType::kOpened, EventType::kResolved, EventType::kOpened});
    CHECK(env.rec.sent[0].ids == std::vector<std::string>{"cart-id"});
    CHECK(env.rec.sent[1].ids == std::vector<std::string>{"cart-id"});
    CHECK(env.rec.sent[2].ids == std::vector<std::string>{"api-id"});
    // Resolved: a late diagnosis follows no more.
    env.answer(resolved, "cart-0", "Too late.");
    env.scheduler.run_due();
    CHECK(env.rec.sent.size() == 3);
  }
  SECTION("when its answer comes") {
    env.answer(resolved, "cart-0", "The config map is missing.");
    env.scheduler.run_due();
    REQUIRE(types(env.rec) == std::vector<EventType>{EventType::kOpened, EventType::kResolved});
    CHECK(env.rec.sent[0].diagnosis == "The config map is missing.");
    CHECK(env.rec.sent[1].ids == std::vector<std::string>{"cart-id"});
    CHECK(env.hold.held() == 1);  // the other one still waits
  }
}

TEST_CASE("a resolution of an alert not held goes out at once") {
  Env env(0ms);
  auto& inc = env.open("cart");
  env.opened(inc);
  Incident resolved = inc;
  resolved.state = Incident::State::kResolved;
  env.announce(EventType::kResolved, {&resolved});
  CHECK(types(env.rec) == std::vector<EventType>{EventType::kOpened, EventType::kResolved});
}

TEST_CASE("a digest goes out at once, asks for diagnoses and gets no follow-ups") {
  Env env;
  auto& a = env.open("cart");
  auto& b = env.open("api");
  auto& c = env.open("web", {"web-0", "web-1"});
  env.announce(EventType::kDigest, {&a, &b, &c});
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].type == EventType::kDigest);
  CHECK(env.rec.sent[0].ids == std::vector<std::string>{"cart-id", "api-id", "web-id"});
  CHECK(env.hold.held() == 0);
  CHECK(env.scheduler.pending() == 0);
  CHECK(env.ledger.alerted ==
        std::vector<std::string>{a.fingerprint, b.fingerprint, c.fingerprint});
  REQUIRE(env.requests.size() == 3);
  CHECK(env.requests[2].pod == "web-0");
  for (const auto& r : env.requests) CHECK(r.opening);
  // The diagnoses land on the incidents, silently.
  env.answer(a, "cart-0", "Out of memory.");
  env.scheduler.advance(60s);
  CHECK(env.rec.sent.size() == 1);
  CHECK(env.ledger.open[a.fingerprint].diagnosis == "Out of memory.");
}

TEST_CASE("an alert held at shutdown is not released and stays pending for the next start") {
  Env env;
  auto& inc = env.open("cart");
  env.opened(inc);
  env.hold.evidence_ready(inc.fingerprint, "cart-0", Redacted::from_state("panic"));
  env.scheduler.shutdown();  // podmedic stops (the TaskGroup cancels the timers)
  env.scheduler.advance(60s);
  env.answer(inc, "cart-0", "Out of memory.");  // an answer in the drain changes nothing
  env.scheduler.run_due();
  CHECK(env.rec.sent.empty());
  CHECK(env.ledger.alerted.empty());
  CHECK(env.ledger.open[inc.fingerprint].pending_alert);  // the next start announces it
}

TEST_CASE("with no hold an opened alert goes straight through") {
  Env env(0ms);
  auto& inc = env.open("cart");
  env.opened(inc);
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].type == EventType::kOpened);
  CHECK(env.ledger.alerted == std::vector<std::string>{inc.fingerprint});
  CHECK(env.hold.held() == 0);
  CHECK(env.scheduler.pending() == 0);
  // A pod joining asks for a diagnosis; it follows the alert.
  env.hold.on_pod_joined(inc, "cart-1");
  REQUIRE_FALSE(env.requests.empty());
  CHECK(env.requests.back().pod == "cart-1");
  CHECK_FALSE(env.requests.back().opening);
  env.answer(inc, "cart-1", "Out of memory.");
  REQUIRE(env.rec.sent.size() == 2);
  CHECK(env.rec.sent[1].type == EventType::kDiagnosed);
}

TEST_CASE("an incident with no pod name is not held") {
  Env env;
  auto& inc = env.open("cart");
  inc.all_pods.clear();
  env.opened(inc);
  CHECK(types(env.rec) == std::vector<EventType>{EventType::kOpened});
  CHECK(env.requests.empty());
}

TEST_CASE("reminders and diagnosed events pass through, even while held") {
  Env env;
  auto& inc = env.open("cart");
  auto& other = env.open("api");
  env.opened(inc);
  env.announce(EventType::kReminder, {&other});
  env.announce(EventType::kDiagnosed, {&other});
  CHECK(types(env.rec) == std::vector<EventType>{EventType::kReminder, EventType::kDiagnosed});
  // Announced again while held (the tracker's restart path): held once.
  env.opened(inc);
  CHECK(env.requests.size() == 1);
  CHECK(env.hold.held() == 1);
}

TEST_CASE("evidence attaches to the held alert and, once, to the tracker") {
  Env env;
  auto& inc = env.open("cart", {"cart-0", "cart-1"});
  env.opened(inc);
  // Another pod's evidence reaches the tracker (it had none) but not the held alert.
  env.hold.evidence_ready(inc.fingerprint, "cart-1", Redacted::from_state("from cart-1"));
  CHECK(env.ledger.open[inc.fingerprint].evidence == "from cart-1");
  env.hold.evidence_ready(inc.fingerprint, "cart-0", Redacted::from_state("from cart-0"));
  CHECK(env.ledger.open[inc.fingerprint].evidence == "from cart-1");  // the first stays
  env.scheduler.advance(10s);
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].evidence == "from cart-0");
  // Evidence for a fingerprint not open goes nowhere.
  env.hold.evidence_ready("no/such/fp", "x", Redacted::from_state("x"));
  CHECK(env.ledger.open.count("no/such/fp") == 0);
}

TEST_CASE("what the rollout changed attaches to the held alert and to the tracker") {
  Env env;
  auto& inc = env.open("cart", {"cart-0", "cart-1"});
  env.opened(inc);
  const std::vector<incidents::Change> changes{
      {"image", "app", Redacted::from_state("cart:1.0"), Redacted::from_state("cart:1.1")}};
  env.hold.evidence_ready(inc.fingerprint, "cart-1", Redacted::from_state("x"), {});
  CHECK(env.ledger.open[inc.fingerprint].changes.empty());
  env.hold.evidence_ready(inc.fingerprint, "cart-0", Redacted::from_state("y"), changes);
  CHECK(env.ledger.open[inc.fingerprint].changes == changes);
  env.scheduler.advance(10s);
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].changes == changes);
  // A later pod with nothing seen does not erase them.
  env.hold.evidence_ready(inc.fingerprint, "cart-1", Redacted::from_state("z"), {});
  CHECK(env.ledger.open[inc.fingerprint].changes == changes);
}

TEST_CASE("a failed diagnosis of another pod does not end the hold early; its own pod's does") {
  Env env;
  auto& inc = env.open("cart", {"cart-0", "cart-1"});
  env.opened(inc);
  env.fail(inc, "cart-1");
  env.scheduler.advance(5s);
  CHECK(env.rec.sent.empty());
  CHECK(env.hold.held() == 1);
  env.fail(inc, "cart-0");  // its own pod: nothing more to wait for
  CHECK(env.rec.sent.empty());
  env.scheduler.run_due();
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].diagnosis.empty());
  CHECK(env.ledger.alerted == std::vector<std::string>{inc.fingerprint});
  CHECK(env.scheduler.pending() == 0);
}

TEST_CASE("another pod's good answer ends the hold with it") {
  Env env;
  auto& inc = env.open("cart", {"cart-0", "cart-1"});
  env.opened(inc);
  env.answer(inc, "cart-1", "Same crash on cart-1.");
  env.scheduler.run_due();
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].diagnosis == "Same crash on cart-1.");
}

TEST_CASE("an answer from inside the request (a full queue drops it) is not released inside it") {
  Env env;
  auto& inc = env.open("cart");
  bool inside = false;
  env.on_request = [&](const Request& r) {
    inside = true;
    env.hold.diagnosis_ready(r.fingerprint, r.pod, false, Redacted(), "");
    CHECK(env.rec.sent.empty());  // not handed on from inside the tracker's announcement
    inside = false;
  };
  env.opened(inc);
  CHECK(env.rec.sent.empty());
  env.scheduler.run_due();
  CHECK_FALSE(inside);
  CHECK(types(env.rec) == std::vector<EventType>{EventType::kOpened});
}

TEST_CASE("destroying the hold cancels its timers") {
  test::FakeClock clock;
  test::FakeScheduler scheduler(clock);
  Recorder rec;
  FakeLedger ledger;
  {
    AlertHold hold(
        HoldSettings{10s}, rec, ledger, scheduler,
        [](const std::string&, const std::string&, const std::string&, bool) {}, [] {});
    Incident inc;
    inc.fingerprint = "fp";
    inc.all_pods = {"p"};
    hold.on_incident_event({EventType::kOpened, {&inc}});
    CHECK(scheduler.pending() == 1);
  }
  CHECK(scheduler.pending() == 0);
  scheduler.advance(60s);
  CHECK(rec.sent.empty());
}

// The same path with the real tracker behind TrackerLedger, its state in a file: an alert held
// when podmedic stops is announced by the next start, once.
namespace {

using podmedic::test::TempDir;

// A crashing pod, observed through the real decoder and detector as the pipeline does.
void crash(incidents::IncidentTracker& t, test::FakeClock& clock, const std::string& deployment) {
  Interner in;
  k8s::Decoder dec{in};
  rules::Detector det{in, rules::DetectSettings{}};
  sim::PodTemplate tmpl;
  tmpl.ns = "shop";
  tmpl.deployment = deployment;
  tmpl.name = deployment + "-" + tmpl.rs_hash + "-0";
  auto pod = sim::make_pod(tmpl, clock.unix_seconds());
  sim::set_crashloop(pod, "app", 1, "Error", clock.unix_seconds());
  test::Padded line(nlohmann::json{{"type", "MODIFIED"}, {"object", pod}}.dump());
  k8s::WatchHeader h;
  k8s::PodView v;
  REQUIRE(dec.watch_pod(line.view(), line.capacity(), h, v).ok());
  t.observe(v, det.current(v), in);
}

incidents::IncidentSettings confirming() {
  incidents::IncidentSettings s;
  s.sink_confirms_alerts = true;  // as the pipeline sets it: the hold confirms
  return s;
}

// Wired as in the pipeline: the hold's ledger is bound to the tracker before it is constructed.
struct Wired {
  Wired(test::FakeClock& clock, Scheduler& scheduler, incidents::IncidentSink& next,
        incidents::StateFile& state)
      // Through its address: GCC 12 takes binding a reference to a later member for a use.
      : ledger(*std::addressof(tracker)),
        hold(
            HoldSettings{10s}, next, ledger, scheduler,
            [this](const std::string&, const std::string&, const std::string& pod, bool) {
              requested.push_back(pod);
            },
            [] {}),
        tracker(confirming(), clock, hold, &state) {}
  std::vector<std::string> requested;  // pods whose diagnosis was asked for
  TrackerLedger ledger;
  AlertHold hold;
  incidents::IncidentTracker tracker;
};

}  // namespace

TEST_CASE("with the real tracker, an alert held at shutdown is announced after the restart") {
  TempDir dir;
  test::FakeClock clock;
  std::string held_id;
  {
    test::FakeScheduler scheduler(clock);
    Recorder rec;
    incidents::StateFile state(dir.path.string());
    REQUIRE(state.prepare().ok());
    Wired w(clock, scheduler, rec, state);
    auto& tracker = w.tracker;
    auto& requested = w.requested;
    tracker.load();
    crash(tracker, clock, "cart");
    crash(tracker, clock, "api");
    REQUIRE(tracker.open_count() == 2);
    CHECK(requested.size() == 2);
    // The api alert is answered and handed on; cart's is still held when podmedic stops.
    auto incs = tracker.incidents();
    const incidents::Incident* api = incs[0]->workload.name == "api" ? incs[0] : incs[1];
    const incidents::Incident* cart = api == incs[0] ? incs[1] : incs[0];
    held_id = cart->id;
    w.hold.diagnosis_ready(api->fingerprint, requested.back(), true,
                           Redacted::from_state("Out of memory."), "mistral");
    scheduler.run_due();
    REQUIRE(rec.sent.size() == 1);
    CHECK(rec.sent[0].diagnosis == "Out of memory.");
    CHECK_FALSE(tracker.find_open(api->fingerprint)->pending_alert);
    CHECK(tracker.find_open(api->fingerprint)->diagnosis == "Out of memory.");
    CHECK(tracker.find_open(cart->fingerprint)->pending_alert);
    scheduler.shutdown();
    scheduler.advance(60s);
    CHECK(rec.sent.size() == 1);
    tracker.flush();
  }
  // The next start: the tracker re-announces the held alert (and only it) on its first tick.
  Recorder rec;
  incidents::StateFile state(dir.path.string());
  incidents::IncidentTracker tracker(confirming(), clock, rec, &state);
  tracker.load();
  tracker.tick();
  REQUIRE(rec.sent.size() == 1);
  CHECK(rec.sent[0].type == EventType::kOpened);
  CHECK(rec.sent[0].ids == std::vector<std::string>{held_id});
}

TEST_CASE("a diagnosis that failed for a passing reason is asked again, a few times at most") {
  Env env;
  auto& inc = env.open("cart");
  env.opened(inc);
  REQUIRE(env.requests.size() == 1);
  // The LLM answers 429: the alert goes out with the facts now, the diagnosis is owed.
  env.hold.diagnosis_ready(inc.fingerprint, "cart-0", false, Redacted(), "", true);
  env.scheduler.run_due();
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].diagnosis.empty());
  env.scheduler.advance(AlertHold::kRetryDelay - 1s);
  CHECK(env.requests.size() == 1);
  env.scheduler.advance(1s);
  REQUIRE(env.requests.size() == 2);
  CHECK(env.requests[1].pod == "cart-0");
  CHECK_FALSE(env.requests[1].opening);
  // Failing again: later again, until kMaxRetries.
  for (int attempt = 2; attempt <= AlertHold::kMaxRetries; ++attempt) {
    env.hold.diagnosis_ready(inc.fingerprint, "cart-0", false, Redacted(), "", true);
    env.scheduler.advance(AlertHold::kRetryDelay * attempt);
    CHECK(env.requests.size() == static_cast<std::size_t>(attempt + 1));
  }
  env.hold.diagnosis_ready(inc.fingerprint, "cart-0", false, Redacted(), "", true);
  env.scheduler.advance(10min);
  CHECK(env.requests.size() == static_cast<std::size_t>(AlertHold::kMaxRetries + 1));
  // The last attempt's answer still follows.
  env.answer(inc, "cart-0", "Out of memory.");
  REQUIRE(env.rec.sent.size() == 2);
  CHECK(env.rec.sent[1].type == EventType::kDiagnosed);
}

TEST_CASE("no retry for a failure that will not pass, nor once the incident resolved") {
  Env env;
  auto& inc = env.open("cart");
  env.opened(inc);
  env.fail(inc, "cart-0");  // e.g. no evidence: not retryable
  env.scheduler.advance(10min);
  CHECK(env.requests.size() == 1);
  auto& api = env.open("api");
  env.opened(api);
  env.hold.diagnosis_ready(api.fingerprint, "api-0", false, Redacted(), "", true);
  env.scheduler.run_due();
  Incident resolved = api;
  resolved.state = Incident::State::kResolved;
  env.announce(EventType::kResolved, {&resolved});
  env.scheduler.advance(10min);
  CHECK(env.requests.size() == 2);  // the two openings only
  CHECK(env.scheduler.pending() == 0);
}

TEST_CASE("after a restart, an incident announced without a diagnosis gets it as a follow-up") {
  Env env;
  auto& inc = env.open("cart");
  inc.pending_alert = false;  // announced before the restart
  inc.last_notified = 1790000000;
  env.hold.resume(inc);
  REQUIRE(env.requests.size() == 1);
  CHECK(env.requests[0].fingerprint == inc.fingerprint);
  CHECK(env.rec.sent.empty());  // nothing announced again
  env.answer(inc, "cart-0", "The config map is missing.");
  REQUIRE(env.rec.sent.size() == 1);
  CHECK(env.rec.sent[0].type == EventType::kDiagnosed);
  // Not for one that has its diagnosis, is still pending, or was never announced.
  auto& done = env.open("done");
  done.pending_alert = false;
  done.last_notified = 1;
  done.diagnosis = Redacted::from_state("known");
  auto& pending = env.open("pending");
  pending.last_notified = 1;
  auto& never = env.open("never");
  never.pending_alert = false;
  for (const auto* i : {&done, &pending, &never}) env.hold.resume(*i);
  CHECK(env.requests.size() == 1);
}
