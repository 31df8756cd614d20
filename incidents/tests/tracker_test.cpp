// IncidentTracker on a fake clock, fed realistic pods (simulator JSON → decoder → detector)
// exactly as the pipeline feeds it.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "incidents/tracker.h"
#include "sim/objects.h"
#include "tests/fake_clock.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::incidents;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Recorder final : IncidentSink {
  std::vector<std::pair<EventType, std::vector<std::string>>> events;  // type, incident ids
  void on_incident_event(const IncidentEvent& e) override {
    std::vector<std::string> ids;
    for (const auto* i : e.incidents) ids.push_back(i->id);
    events.emplace_back(e.type, ids);
  }
  std::vector<std::string> joined;  // pods reported by on_pod_joined
  void on_pod_joined(const Incident&, const std::string& pod) override { joined.push_back(pod); }
  std::size_t count(EventType t) const {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [&](auto& e) { return e.first == t; }));
  }
};

using podmedic::test::TempDir;

// A small cluster of pods as JSON, observed through the real decoder and detector.
struct World {
  test::FakeClock clock;
  Interner in;
  k8s::Decoder dec{in};
  rules::Detector det{in, rules::DetectSettings{}};
  std::map<std::string, json> pods;

  json& add(const std::string& deployment, int i, const std::string& ns = "shop") {
    sim::PodTemplate t;
    t.ns = ns;
    t.deployment = deployment;
    t.name = deployment + "-" + t.rs_hash + "-" + std::to_string(i);
    return pods[ns + "/" + t.name] = sim::make_pod(t, clock.unix_seconds());
  }
  k8s::PodView view(const json& p) {
    test::Padded line(json{{"type", "MODIFIED"}, {"object", p}}.dump());
    k8s::WatchHeader h;
    k8s::PodView v;
    REQUIRE(dec.watch_pod(line.view(), line.capacity(), h, v).ok());
    return v;
  }
  void feed(IncidentTracker& t, const json& p) {
    auto v = view(p);
    t.observe(v, det.current(v), in);
  }
  void crash(IncidentTracker& t, json& p, int code = 1, const char* reason = "Error") {
    sim::set_crashloop(p, "app", code, reason, clock.unix_seconds());
    feed(t, p);
  }
  void heal(IncidentTracker& t, json& p) {
    sim::set_running(p, "app", clock.unix_seconds());
    feed(t, p);
  }
};

IncidentSettings settings() {
  IncidentSettings s;
  s.cluster = "prod-eu-1";
  s.resolve_after = 300s;
  s.renotify_after = 4h;
  s.flap_hold_down = 600s;
  return s;
}

}  // namespace

TEST_CASE("ten crashing replicas are one incident announced once") {
  World w;
  Recorder rec;
  IncidentTracker t(settings(), w.clock, rec);
  for (int i = 0; i < 10; ++i) w.crash(t, w.add("cart", i));
  REQUIRE(rec.events.size() == 1);
  CHECK(rec.events[0].first == EventType::kOpened);
  auto incs = t.incidents();
  REQUIRE(incs.size() == 1);
  CHECK(incs[0]->pods.size() == 10);
  CHECK(incs[0]->workload == Workload{"Deployment", "cart"});
  CHECK(incs[0]->fingerprint == "prod-eu-1/shop/Deployment/cart/app/CrashLoopBackOff");
  // Restarts climbing: no new message, the count follows.
  for (int round = 0; round < 5; ++round) {
    w.clock.advance(60s);
    w.crash(t, w.pods.begin()->second);
    t.tick();
  }
  CHECK(rec.events.size() == 1);
  CHECK(t.incidents()[0]->restarts == 6);
}

TEST_CASE("different reasons and containers of one workload are separate incidents") {
  World w;
  Recorder rec;
  IncidentTracker t(settings(), w.clock, rec);
  w.crash(t, w.add("cart", 0), 137, "OOMKilled");
  w.crash(t, w.add("cart", 1), 1, "Error");
  CHECK(rec.count(EventType::kOpened) == 2);
  CHECK(t.open_count() == 2);
}

TEST_CASE("an incident carries its reason's severity and runbook URL from the settings") {
  World w;
  Recorder rec;
  auto s = settings();
  s.runbooks = {{"OOMKilled", "https://rb.example/{cluster}/{namespace}/{workload}"}};
  IncidentTracker t(s, w.clock, rec);
  w.crash(t, w.add("cart", 0), 137, "OOMKilled");
  w.crash(t, w.add("cart", 1), 1, "Error");
  REQUIRE(t.open_count() == 2);
  for (const auto* inc : t.incidents()) {
    if (inc->reason == "OOMKilled") {
      CHECK(inc->severity == "critical");
      CHECK(inc->runbook_url == "https://rb.example/prod-eu-1/shop/cart");
    } else {
      CHECK(inc->severity == "warning");
      CHECK(inc->runbook_url.empty());
    }
  }
}

TEST_CASE("a reminder after renotifyAfter carries the count") {
  World w;
  Recorder rec;
  IncidentTracker t(settings(), w.clock, rec);
  auto& p = w.add("cart", 0);
  w.crash(t, p);
  w.clock.advance(3h);
  t.tick();
  CHECK(rec.count(EventType::kReminder) == 0);
  w.crash(t, p);
  w.clock.advance(1h);
  t.tick();
  CHECK(rec.count(EventType::kReminder) == 1);
  t.tick();
  CHECK(rec.count(EventType::kReminder) == 1);
  CHECK(t.incidents()[0]->restarts == 2);
}

TEST_CASE("resolved after resolveAfter of health and not before") {
  World w;
  Recorder rec;
  IncidentTracker t(settings(), w.clock, rec);
  auto& a = w.add("cart", 0);
  auto& b = w.add("cart", 1);
  w.crash(t, a);
  w.crash(t, b);
  w.clock.advance(10s);
  w.heal(t, a);
  w.clock.advance(200s);
  w.heal(t, b);
  w.clock.advance(200s);  // a healthy 400 s, b 200 s
  t.tick();
  CHECK(rec.count(EventType::kResolved) == 0);
  w.clock.advance(100s);
  t.tick();
  CHECK(rec.count(EventType::kResolved) == 1);
  CHECK(t.open_count() == 0);
}

TEST_CASE("a new restart while healthy restarts the resolve countdown") {
  World w;
  Recorder rec;
  IncidentTracker t(settings(), w.clock, rec);
  auto& a = w.add("cart", 0);
  w.crash(t, a);
  w.heal(t, a);
  w.clock.advance(200s);
  // It crashed and came back between two observations: restartCount moved on while running.
  a["status"]["containerStatuses"][0]["restartCount"] = 2;
  w.feed(t, a);
  w.clock.advance(200s);
  t.tick();
  CHECK(rec.count(EventType::kResolved) == 0);
  w.clock.advance(101s);
  t.tick();
  CHECK(rec.count(EventType::kResolved) == 1);
}

TEST_CASE("resolved when every pod is gone") {
  World w;
  Recorder rec;
  IncidentTracker t(settings(), w.clock, rec);
  w.crash(t, w.add("cart", 0));
  w.crash(t, w.add("cart", 1));
  t.pod_gone("shop", "cart-7d9f8b6c5d-0");
  CHECK(t.open_count() == 1);
  t.pod_gone("shop", "cart-7d9f8b6c5d-1");
  CHECK(t.open_count() == 0);
  CHECK(rec.count(EventType::kResolved) == 1);
}

TEST_CASE("flapping within the hold-down reopens silently and later opens a new incident") {
  World w;
  Recorder rec;
  IncidentTracker t(settings(), w.clock, rec);
  auto& a = w.add("cart", 0);
  w.crash(t, a);
  auto first_id = t.incidents()[0]->id;
  w.heal(t, a);
  w.clock.advance(301s);
  t.tick();
  REQUIRE(rec.count(EventType::kResolved) == 1);
  w.clock.advance(60s);
  w.crash(t, a);  // within the 10 min hold-down
  CHECK(rec.count(EventType::kOpened) == 1);
  REQUIRE(t.open_count() == 1);
  CHECK(t.incidents()[0]->id == first_id);
  CHECK(t.incidents()[0]->flaps == 1);
  CHECK(t.incidents()[0]->quiet);
  w.heal(t, a);
  w.clock.advance(301s);
  t.tick();
  // Humans last heard "resolved" and were not told of the reopening: its second resolution is
  // silent too (one "resolved" per announcement, not one per flap).
  CHECK(rec.count(EventType::kResolved) == 1);
  CHECK_FALSE(t.incidents()[0]->quiet);
  w.clock.advance(700s);  // past the hold-down
  w.crash(t, a);
  CHECK(rec.count(EventType::kOpened) == 2);
  CHECK(t.incidents()[0]->id != first_id);
}

TEST_CASE("a storm becomes a digest") {
  World w;
  Recorder rec;
  auto s = settings();
  s.storm_threshold = 3;
  s.digest_delay = 30s;
  IncidentTracker t(s, w.clock, rec);
  for (int d = 0; d < 10; ++d) w.crash(t, w.add("svc" + std::to_string(d), 0));
  CHECK(rec.count(EventType::kOpened) == 3);
  t.tick();
  CHECK(rec.count(EventType::kDigest) == 0);
  w.clock.advance(30s);
  t.tick();
  REQUIRE(rec.count(EventType::kDigest) == 1);
  CHECK(rec.events.back().second.size() == 7);
  CHECK(t.open_count() == 10);
}

TEST_CASE("a restart with persisted state neither repeats nor forgets") {
  TempDir dir;
  World w;
  std::string id;
  {
    Recorder rec;
    StateFile state(dir.path.string());
    REQUIRE(state.prepare().ok());
    IncidentTracker t(settings(), w.clock, rec, &state);
    t.load();
    w.crash(t, w.add("cart", 0));
    w.crash(t, w.add("cart", 1));
    REQUIRE(rec.count(EventType::kOpened) == 1);
    id = t.incidents()[0]->id;
  }  // podmedic stops (no explicit flush: state was saved when the incident was announced)
  Recorder rec;
  StateFile state(dir.path.string());
  auto changed = settings();  // the configuration changed across the restart: it applies
  changed.severity["CrashLoopBackOff"] = "info";
  IncidentTracker t(changed, w.clock, rec, &state);
  t.load();
  REQUIRE(t.open_count() == 1);
  CHECK(t.incidents()[0]->severity == "info");
  // The initial sync sees the same failures again: silence.
  for (auto& [k, p] : w.pods) w.feed(t, p);
  CHECK(rec.events.empty());
  CHECK(t.incidents()[0]->id == id);
  // The pods recover: the restored incident still resolves, and says so.
  for (auto& [k, p] : w.pods) w.heal(t, p);
  w.clock.advance(301s);
  t.tick();
  CHECK(rec.count(EventType::kResolved) == 1);
}

TEST_CASE("an alert held by the sink when podmedic stopped is announced after the restart") {
  TempDir dir;
  World w;
  auto s = settings();
  s.sink_confirms_alerts = true;
  std::string held, confirmed;
  {
    Recorder rec;
    StateFile state(dir.path.string());
    REQUIRE(state.prepare().ok());
    IncidentTracker t(s, w.clock, rec, &state);
    t.load();
    w.crash(t, w.add("cart", 0));
    w.crash(t, w.add("api", 0));
    REQUIRE(rec.count(EventType::kOpened) == 2);
    auto incs = t.incidents();
    held = incs[0]->id;
    confirmed = incs[1]->id;
    t.mark_alerted(incs[1]->fingerprint);  // handed to the notifiers: persisted at once
    // The other was still held (waiting for its diagnosis) when podmedic died.
  }
  Recorder rec;
  StateFile state(dir.path.string());
  IncidentTracker t(s, w.clock, rec, &state);
  t.load();
  for (auto& [k, p] : w.pods) w.feed(t, p);
  CHECK(rec.events.empty());
  t.tick();
  REQUIRE(rec.events.size() == 1);
  CHECK(rec.events[0].first == EventType::kOpened);
  CHECK(rec.events[0].second == std::vector<std::string>{held});
  t.tick();
  CHECK(rec.events.size() == 1);
}

TEST_CASE("pods joining are reported and the diagnosis is attached once and persisted") {
  TempDir dir;
  World w;
  Recorder rec;
  StateFile state(dir.path.string());
  REQUIRE(state.prepare().ok());
  IncidentTracker t(settings(), w.clock, rec, &state);
  auto& p0 = w.add("cart", 0);
  w.crash(t, p0);
  w.crash(t, w.add("cart", 1));
  w.crash(t, w.add("cart", 2));
  w.clock.advance(60s);
  w.crash(t, p0);  // a restart of a pod already in: not a join
  CHECK(rec.joined.size() == 2);
  const auto fp = t.incidents()[0]->fingerprint;
  REQUIRE(t.set_diagnosis(fp, Redacted::from_state("The app dereferences a nil config."),
                          "mistral") != nullptr);
  CHECK(t.set_diagnosis(fp, Redacted::from_state("another answer"), "mistral") ==
        nullptr);  // first answer stays
  CHECK(t.set_diagnosis("no/such/fp", Redacted::from_state("x"), "m") == nullptr);
  Recorder rec2;
  IncidentTracker restored(settings(), w.clock, rec2, &state);
  restored.load();
  REQUIRE(restored.open_count() == 1);
  CHECK(restored.incidents()[0]->diagnosis == "The app dereferences a nil config.");
  CHECK(restored.incidents()[0]->diagnosis_model == "mistral");
  auto j = to_json(*restored.incidents()[0]);
  CHECK(j["diagnosis"]["source"] == "llm");
}

TEST_CASE("restored incidents whose pods vanished during the downtime resolve after sync") {
  TempDir dir;
  World w;
  {
    Recorder rec;
    StateFile state(dir.path.string());
    IncidentTracker t(settings(), w.clock, rec, &state);
    w.crash(t, w.add("cart", 0));
  }
  Recorder rec;
  StateFile state(dir.path.string());
  IncidentTracker t(settings(), w.clock, rec, &state);
  t.load();
  t.reconcile([](const std::string&, const std::string&) { return false; });
  CHECK(t.open_count() == 0);
  CHECK(rec.count(EventType::kResolved) == 1);
}

TEST_CASE("first start with empty state announces existing failures once") {
  TempDir dir;
  World w;
  Recorder rec;
  StateFile state(dir.path.string());
  IncidentTracker t(settings(), w.clock, rec, &state);
  t.load();
  auto& p = w.add("cart", 0);
  sim::set_crashloop(p, "app", 1, "Error", w.clock.unix_seconds());
  w.feed(t, p);  // from the initial list
  w.feed(t, p);  // and again from a relist
  CHECK(rec.count(EventType::kOpened) == 1);
}

TEST_CASE("a corrupt or truncated state file is set aside and never fatal") {
  TempDir dir;
  std::ofstream(dir.path / "incidents.json") << R"({"version":1,"open":[{"id":"abc","finger)";
  World w;
  Recorder rec;
  StateFile state(dir.path.string());
  IncidentTracker t(settings(), w.clock, rec, &state);
  t.load();
  CHECK(state.corrupt_note().find("corrupt or truncated") != std::string::npos);
  bool moved = false;
  for (auto& e : fs::directory_iterator(dir.path)) {
    moved = moved || e.path().filename().string().rfind("incidents.json.corrupt-", 0) == 0;
  }
  CHECK(moved);
  w.crash(t, w.add("cart", 0));
  CHECK(rec.count(EventType::kOpened) == 1);
  CHECK(fs::exists(dir.path / "incidents.json"));
}

TEST_CASE("a wrong-typed state file is set aside, never fatal") {
  // Valid JSON of the wrong shape aborted every start before (nlohmann type_error).
  for (const char* text : {R"({"version":"1","open":[]})", R"({"version":1e400})", R"([1,2])",
                           R"({"version":1,"open":{"id":5}})", R"({"version":4294967297})"}) {
    INFO(text);
    TempDir dir;
    std::ofstream(dir.path / "incidents.json") << text;
    World w;
    Recorder rec;
    StateFile state(dir.path.string());
    IncidentTracker t(settings(), w.clock, rec, &state);
    t.load();
    CHECK(!state.corrupt_note().empty());
    CHECK(!fs::exists(dir.path / "incidents.json"));
    w.crash(t, w.add("cart", 0));
    CHECK(rec.count(EventType::kOpened) == 1);
  }
}

TEST_CASE("a state file with one wrong-typed incident keeps the others and names the field") {
  TempDir dir;
  World w;
  std::string id;
  {
    Recorder rec;
    StateFile state(dir.path.string());
    REQUIRE(state.prepare().ok());
    IncidentTracker t(settings(), w.clock, rec, &state);
    w.crash(t, w.add("cart", 0));
    REQUIRE(rec.count(EventType::kOpened) == 1);
    id = t.incidents()[0]->id;
  }
  std::ifstream in(dir.path / "incidents.json");
  json saved = json::parse(in);
  json bad = saved["open"][0];
  bad["id"] = "other";
  bad["fingerprint"] = "prod-eu-1/shop/Deployment/x/app/CrashLoopBackOff";
  bad["restarts"] = "4";  // a string where a number belongs
  saved["open"].push_back(bad);
  json worse = bad;
  worse["podState"] = {{"p", {{"restarts", 4294967303}}}};  // beyond uint32: not 7
  saved["resolved"].push_back(worse);
  std::ofstream(dir.path / "incidents.json", std::ios::trunc) << saved.dump();

  Recorder rec;
  StateFile state(dir.path.string());
  IncidentTracker t(settings(), w.clock, rec, &state);
  t.load();
  REQUIRE(t.open_count() == 1);
  CHECK(t.incidents()[0]->id == id);
  CHECK(state.corrupt_note().find("2 entries refused") != std::string::npos);
  CHECK(state.corrupt_note().find("\"restarts\"") != std::string::npos);
  // What was readable is written back at the next flush; the damaged original is kept aside.
  t.flush();
  std::ifstream again(dir.path / "incidents.json");
  CHECK(json::parse(again)["open"].size() == 1);
  for (auto& [k, p] : w.pods) w.feed(t, p);
  CHECK(rec.events.empty());
}

TEST_CASE("an unwritable state dir is a clear startup error") {
  StateFile state("/proc/podmedic-cannot-write-here");
  auto r = state.prepare();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("state.dir /proc/podmedic-cannot-write-here") == 0);
}

TEST_CASE("metrics count incidents by reason and track open ones") {
  World w;
  Recorder rec;
  prometheus::Registry reg;
  IncidentMetrics m(reg);
  IncidentTracker t(settings(), w.clock, rec, nullptr, &m);
  w.add("cart", 0);
  sim::set_crashloop(w.pods.begin()->second, "app", 137, "OOMKilled", w.clock.unix_seconds());
  auto crashed = w.view(w.pods.begin()->second);
  t.observe(crashed, w.det.current(crashed), w.in, std::chrono::steady_clock::now());
  CHECK(m.total.Add({{"reason", "OOMKilled"}}).Value() == 1);
  CHECK(m.open_reason("OOMKilled").Value() == 1);
  CHECK(m.open_reason("CrashLoopBackOff").Value() == 0);  // labelled by reason
  std::size_t samples = 0;
  for (auto& f : reg.Collect()) {
    if (f.name == "podmedic_detection_latency_seconds")
      samples = f.metric[0].histogram.sample_count;
  }
  CHECK(samples == 1);
}

// ---- Durability: a deleted state.dir, a full disk, failed writes retried ----

namespace {
// A disk that fills up on demand: while `full`, a write gets out `room` bytes at most, then
// ENOSPC (a short write first, as a real filesystem does).
struct FullDisk {
  bool full = false;
  std::size_t room = 0;
  int calls = 0;
  StateFile::WriteFn writer() {
    return [this](int fd, const char* data, std::size_t n) -> ssize_t {
      ++calls;
      if (!full) return ::write(fd, data, n);
      if (room == 0) {
        errno = ENOSPC;
        return -1;
      }
      std::size_t k = std::min(n, room);
      room -= k;
      return ::write(fd, data, k);
    };
  }
};

std::vector<std::string> tmp_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() == ".tmp") out.push_back(it->path().string());
  }
  return out;
}

}  // namespace

TEST_CASE("a deleted state.dir is recreated owner-only by the next save") {
  TempDir dir;
  const fs::path sd = dir.path / "nested" / "state";
  StateFile state(sd.string());
  REQUIRE(state.prepare().ok());
  fs::remove_all(dir.path / "nested");
  REQUIRE_FALSE(fs::exists(sd));
  REQUIRE(state.save({{"version", 1}, {"open", json::array()}}).ok());
  CHECK(state.healthy());
  REQUIRE(fs::exists(sd / "incidents.json"));
  CHECK((fs::status(sd).permissions() & fs::perms::all) == fs::perms::owner_all);
  CHECK(tmp_files(sd).empty());
}

TEST_CASE("a write that fails half way leaves the old file, no temp file, and is reported") {
  TempDir dir;
  prometheus::Registry reg;
  StateFile state(dir.path.string());
  state.count_errors(&state_write_errors(reg, "incidents"));
  FullDisk disk;
  state.set_writer(disk.writer());
  REQUIRE(state.save({{"version", 1}, {"n", 1}}).ok());
  const std::string before = test::read_file(state.path());

  disk.full = true;
  disk.room = 5;  // a short write, then ENOSPC
  auto r = state.save({{"version", 1}, {"n", 2}, {"pad", std::string(4096, 'x')}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("No space left on device") != std::string::npos);
  CHECK(r.error().message.find(state.path() + ".tmp") != std::string::npos);
  CHECK(tmp_files(dir.path).empty());
  CHECK(test::read_file(state.path()) == before);
  CHECK_FALSE(state.healthy());
  CHECK(state.last_error() == r.error().message);
  CHECK(test::counter_value(reg, "podmedic_state_write_errors_total", {{"file", "incidents"}}) ==
        1);

  disk.full = false;  // space freed: the next save succeeds and says so
  REQUIRE(state.save({{"version", 1}, {"n", 3}}).ok());
  CHECK(state.healthy());
  CHECK(state.last_error().empty());
  CHECK(test::counter_value(reg, "podmedic_state_write_errors_total", {{"file", "incidents"}}) ==
        1);
}

TEST_CASE("a real file size limit (RLIMIT_FSIZE) fails the save cleanly") {
  // The kernel's own disk-full path, in a child process so the limit stays there.
  TempDir dir;
  StateFile state(dir.path.string());
  REQUIRE(state.save({{"version", 1}, {"n", 1}}).ok());
  const std::string before = test::read_file(state.path());
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // then write(2) returns EFBIG instead of killing us
    rlimit lim{1024, 1024};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(10);
    StateFile child(dir.path.string());
    auto r = child.save({{"version", 1}, {"pad", std::string(64 * 1024, 'x')}});
    if (r.ok()) ::_exit(11);
    if (r.error().message.find("File too large") == std::string::npos) ::_exit(12);
    if (child.healthy()) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(tmp_files(dir.path).empty());
  CHECK(test::read_file(state.path()) == before);
}

TEST_CASE("an announcement waits for its state save; a restart after it does not repeat it") {
  TempDir dir;
  World w;
  prometheus::Registry reg;
  IncidentMetrics m(reg);
  FullDisk disk;
  {
    Recorder rec;
    StateFile state(dir.path.string());
    REQUIRE(state.prepare().ok());
    state.set_writer(disk.writer());
    IncidentTracker t(settings(), w.clock, rec, &state, &m);
    t.load();
    disk.full = true;
    w.crash(t, w.add("cart", 0));
    // Not announced: a restart now would not know it had been.
    CHECK(rec.events.empty());
    CHECK(t.held() == 1);
    CHECK_FALSE(t.state_ok());
    CHECK(test::counter_value(reg, "podmedic_state_write_errors_total", {{"file", "incidents"}}) ==
          1);
    CHECK(tmp_files(dir.path).empty());
    w.clock.advance(1s);
    t.tick();  // retried, still full
    CHECK(rec.events.empty());
    CHECK(test::counter_value(reg, "podmedic_state_write_errors_total", {{"file", "incidents"}}) ==
          2);

    disk.full = false;
    w.clock.advance(1s);
    t.tick();  // saved: now it goes out, once
    REQUIRE(rec.count(EventType::kOpened) == 1);
    CHECK(t.held() == 0);
    CHECK(t.state_ok());
    t.tick();
    CHECK(rec.events.size() == 1);
  }
  // Restart: the incident is known and the still-crashing pod is silence.
  Recorder rec;
  StateFile state(dir.path.string());
  IncidentTracker t(settings(), w.clock, rec, &state);
  t.load();
  REQUIRE(t.open_count() == 1);
  for (auto& [k, p] : w.pods) w.feed(t, p);
  t.tick();
  CHECK(rec.events.empty());
}

TEST_CASE("a diagnosis follow-up waits for the state that holds the diagnosis") {
  TempDir dir;
  World w;
  FullDisk disk;
  Recorder rec;
  StateFile state(dir.path.string());
  REQUIRE(state.prepare().ok());
  state.set_writer(disk.writer());
  IncidentTracker t(settings(), w.clock, rec, &state);
  t.load();
  w.crash(t, w.add("cart", 0));
  REQUIRE(rec.count(EventType::kOpened) == 1);
  const auto fp = t.incidents()[0]->fingerprint;
  disk.full = true;
  REQUIRE(t.set_diagnosis(fp, Redacted::from_state("The limit is too low."), "mistral", true) !=
          nullptr);
  CHECK(rec.count(EventType::kDiagnosed) == 0);  // the save failed: held
  CHECK(t.held() == 1);
  disk.full = false;
  w.clock.advance(1s);
  t.tick();
  CHECK(rec.count(EventType::kDiagnosed) == 1);
  // Without follow_up (the alert carried the diagnosis): attached, nothing announced.
  w.crash(t, w.add("api", 0));
  const Incident* api = nullptr;
  for (const auto* i : t.incidents())
    if (i->workload.name == "api") api = i;
  REQUIRE(api != nullptr);
  REQUIRE(t.set_diagnosis(api->fingerprint, Redacted::from_state("x"), "m") != nullptr);
  t.tick();
  CHECK(rec.count(EventType::kDiagnosed) == 1);
}

TEST_CASE("a restart while an announcement is held announces it once, never twice") {
  TempDir dir;
  World w;
  FullDisk disk;
  {
    Recorder rec;
    StateFile state(dir.path.string());
    REQUIRE(state.prepare().ok());
    // An earlier run's state: not a first start.
    REQUIRE(
        state.save({{"version", 1}, {"open", json::array()}, {"resolved", json::array()}}).ok());
    state.set_writer(disk.writer());
    IncidentTracker t(settings(), w.clock, rec, &state);
    t.load();
    disk.full = true;
    w.crash(t, w.add("cart", 0));
    t.flush();  // SIGTERM: the final flush fails too
    CHECK(rec.events.empty());
  }
  Recorder rec;
  StateFile state(dir.path.string());
  IncidentTracker t(settings(), w.clock, rec, &state);
  t.load();
  for (auto& [k, p] : w.pods) w.feed(t, p);
  CHECK(rec.count(EventType::kOpened) == 1);
}

TEST_CASE("a save failing longer than hold_unsaved announces anyway, in order") {
  TempDir dir;
  World w;
  Recorder rec;
  StateFile state(dir.path.string());
  FullDisk disk;
  state.set_writer(disk.writer());
  auto s = settings();
  s.hold_unsaved = 30s;
  IncidentTracker t(s, w.clock, rec, &state);
  disk.full = true;
  w.crash(t, w.add("cart", 0));
  const std::string cart_id = t.incidents()[0]->id;
  w.clock.advance(10s);
  w.crash(t, w.add("web", 0));
  CHECK(t.held() == 2);
  w.clock.advance(19s);
  t.tick();
  CHECK(rec.events.empty());
  w.clock.advance(1s);
  t.tick();  // 30 s of failing saves: out they go, oldest first
  REQUIRE(rec.count(EventType::kOpened) == 2);
  CHECK(rec.events[0].second[0] == cart_id);
  CHECK(t.held() == 0);
  // Still failing: later events are not held again for another 30 s.
  w.crash(t, w.add("db", 0));
  CHECK(rec.count(EventType::kOpened) == 3);
  CHECK(tmp_files(dir.path).empty());
}

TEST_CASE("a quietly reopened incident is reminded about renotifyAfter after the reopening") {
  World w;
  Recorder rec;
  auto s = settings();
  s.renotify_after = 1h;
  IncidentTracker t(s, w.clock, rec);
  auto& a = w.add("cart", 0);
  w.crash(t, a);
  w.clock.advance(2h);  // the last announcement (the opening) is long ago
  t.tick();
  REQUIRE(rec.count(EventType::kReminder) == 1);
  w.heal(t, a);
  w.clock.advance(301s);
  t.tick();
  REQUIRE(rec.count(EventType::kResolved) == 1);
  w.clock.advance(60s);
  w.crash(t, a);  // reopened within the hold-down: no reminder right away
  t.tick();
  CHECK(rec.count(EventType::kReminder) == 1);
  w.clock.advance(59min);
  t.tick();
  CHECK(rec.count(EventType::kReminder) == 1);
  w.clock.advance(2min);
  w.crash(t, a);
  t.tick();
  REQUIRE(rec.count(EventType::kReminder) == 2);  // "still broken": the reopening is said now
  CHECK_FALSE(t.incidents()[0]->quiet);
  // Said once, its resolution is announced again.
  w.heal(t, a);
  w.clock.advance(301s);
  t.tick();
  CHECK(rec.count(EventType::kResolved) == 2);
}

TEST_CASE("no reminder while every pod is healthy and only resolveAfter is left") {
  World w;
  Recorder rec;
  auto s = settings();
  s.renotify_after = 60s;
  s.resolve_after = 300s;
  IncidentTracker t(s, w.clock, rec);
  auto& a = w.add("cart", 0);
  w.crash(t, a);
  w.clock.advance(30s);
  w.heal(t, a);
  w.clock.advance(120s);  // past renotifyAfter, inside resolveAfter, every pod healthy
  t.tick();
  CHECK(rec.count(EventType::kReminder) == 0);
  w.clock.advance(200s);
  t.tick();
  CHECK(rec.count(EventType::kResolved) == 1);
  CHECK(rec.count(EventType::kReminder) == 0);
}
