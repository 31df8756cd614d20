// Group commit end to end: the incident tracker and the dispatcher writing through one GroupCommit,
// a fake notifier, and the disk under the test's control (the GroupCommit's writer seam: paused,
// failing, or frozen by a crash). The invariant: a notifier receives a message only after the
// state that records it and the outbox that holds it are on disk, so a restart neither
// re-announces nor forgets.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>

#include "core/group_commit.h"
#include "core/parse.h"
#include "incidents/tracker.h"
#include "notifiers/dispatcher.h"
#include "notifiers/state.h"
#include "sim/objects.h"
#include "tests/fake_clock.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::notifiers;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;
using incidents::EventType;
using incidents::IncidentTracker;

namespace {

using podmedic::test::TempDir;

// The pipeline's executor, driven by the test: post() from any thread, run() on the test's.
struct Posts {
  std::mutex mu;
  std::deque<std::function<void()>> q;
  void post(std::function<void()> f) {
    std::lock_guard lock(mu);
    q.push_back(std::move(f));
  }
  std::size_t pending() {
    std::lock_guard lock(mu);
    return q.size();
  }
  // Runs what is posted, and what that posts, until nothing is left; returns how many ran.
  std::size_t run() {
    std::size_t n = 0;
    for (;;) {
      std::function<void()> f;
      {
        std::lock_guard lock(mu);
        if (q.empty()) return n;
        f = std::move(q.front());
        q.pop_front();
      }
      f();
      ++n;
    }
  }
};

// The disk as the GroupCommit sees it (its writer seam). Writes go to the real files unless
// paused (they wait) or past a crash (write number crash_at and every later one never reach the
// disk: the process died there).
struct Disk {
  std::mutex mu;
  std::condition_variable cv;
  bool paused = false;
  int waiting = 0;  // writes waiting while paused
  long crash_at = -1;
  long attempts = 0;
  std::atomic<bool> crashed{false};
  std::vector<std::string> written;       // slot names, in order
  std::vector<std::size_t> outbox_sizes;  // messages in each outbox written

  Result<Ok> write(const GroupCommit::Slot& slot, const json& j) {
    std::unique_lock lock(mu);
    ++waiting;
    cv.wait(lock, [&] { return !paused; });
    --waiting;
    if (crash_at >= 0 && attempts++ >= crash_at) {
      crashed = true;
      return Error{"crashed"};
    }
    auto r = slot.write(j);
    if (r.ok()) {
      written.push_back(slot.name);
      if (const json* m = parse::get_array(j, "messages")) outbox_sizes.push_back(m->size());
    }
    return r;
  }
  int waiters() {
    std::lock_guard lock(mu);
    return waiting;
  }
  void pause(bool p) {
    {
      std::lock_guard lock(mu);
      paused = p;
    }
    cv.notify_all();
  }
  std::size_t count(const std::string& name) {
    std::lock_guard lock(mu);
    return static_cast<std::size_t>(std::count(written.begin(), written.end(), name));
  }
  std::vector<std::string> log() {
    std::lock_guard lock(mu);
    return written;
  }
};

struct Delivery {
  std::string id, event, incident;
  bool state_recorded = false;  // incidents.json held the incident when it was sent
  bool outbox_held = false;     // outbox-fake.json held this delivery id when it was sent
};

// One message per incident per event; on send, looks at what is on disk.
class FakeNotifier final : public Notifier {
 public:
  FakeNotifier(fs::path dir, const std::atomic<bool>* dead) : dir_(std::move(dir)), dead_(dead) {}
  const std::string& name() const override { return name_; }
  std::vector<Payload> render(const Rendering& r) const override {
    std::vector<Payload> out;
    for (const auto* inc : r.incidents)
      out.push_back({incidents::to_string(r.type), "{\"id\":\"" + inc->id + "\"}", inc->id,
                     r.type == EventType::kOpened});
    return out;
  }
  SendResult send(const Payload& p, const std::string& id, const http::Cancel*) override {
    if (dead_ && *dead_) return {Outcome::kRetry, 0, 0s, "the process is gone"};
    Delivery d{id, p.event, p.thread};
    auto state = parse::json_text(test::read_file(dir_ / "incidents.json"), "state");
    if (state.ok()) {
      if (const json* open = parse::get_array(*state, "open")) {
        for (const auto& inc : *open)
          d.state_recorded =
              d.state_recorded ||
              (parse::string_or(inc, "id") == p.thread &&
               parse::get_integer<std::int64_t>(inc, "lastNotified").value_or(0) != 0);
      }
    }
    auto outbox = parse_outbox(test::read_file(dir_ / "outbox-fake.json"));
    if (outbox.ok()) {
      for (const auto& m : outbox->items) d.outbox_held = d.outbox_held || m.id == id;
    }
    std::lock_guard lock(mu_);
    sent_.push_back(d);
    return {Outcome::kOk, 200, 0s, ""};
  }
  std::vector<Delivery> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::size_t count(const std::string& event) {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(
        std::count_if(sent_.begin(), sent_.end(), [&](auto& d) { return d.event == event; }));
  }

 private:
  std::string name_ = "fake";
  fs::path dir_;
  const std::atomic<bool>* dead_;
  std::mutex mu_;
  std::vector<Delivery> sent_;
};

// Like the pipeline's alert stage: hands events to the dispatcher and confirms openings.
struct Confirming final : incidents::IncidentSink {
  Dispatcher* next = nullptr;
  IncidentTracker* tracker = nullptr;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    next->on_incident_event(e);
    if (e.type == EventType::kOpened || e.type == EventType::kDigest)
      for (const auto* inc : e.incidents) tracker->mark_alerted(inc->fingerprint);
  }
};

// Pods as JSON, observed through the real decoder and detector.
struct World {
  test::FakeClock clock;
  Interner in;
  k8s::Decoder dec{in};
  rules::Detector det{in, rules::DetectSettings{}};
  std::map<std::string, json> pods;
  json& add(const std::string& deployment) {
    sim::PodTemplate t;
    t.ns = "shop";
    t.deployment = deployment;
    t.name = deployment + "-" + t.rs_hash + "-0";
    return pods["shop/" + t.name] = sim::make_pod(t, clock.unix_seconds());
  }
  void feed(IncidentTracker& t, const json& p) {
    test::Padded line(json{{"type", "MODIFIED"}, {"object", p}}.dump());
    k8s::WatchHeader h;
    k8s::PodView v;
    REQUIRE(dec.watch_pod(line.view(), line.capacity(), h, v).ok());
    t.observe(v, det.current(v), in);
  }
  void crash(IncidentTracker& t, json& p) {
    sim::set_crashloop(p, "app", 1, "Error", clock.unix_seconds());
    feed(t, p);
  }
};

incidents::IncidentSettings settings() {
  incidents::IncidentSettings s;
  s.cluster = "prod";
  s.sink_confirms_alerts = true;
  s.storm_threshold = 1000;
  return s;
}

// One podmedic process: tracker → confirming sink → dispatcher → fake notifier, one GroupCommit.
struct Process {
  Posts posts;
  GroupCommit writer;  // before its users: outlives them
  prometheus::Registry registry;
  incidents::IncidentMetrics metrics{registry};
  incidents::StateFile state;
  FakeNotifier* notifier = nullptr;
  Confirming sink;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<IncidentTracker> tracker;

  Process(const fs::path& dir, Disk& disk, const Clock& clock, const std::atomic<bool>* dead,
          incidents::IncidentSettings s = settings())
      : state(dir.string()), disk_(&disk) {
    writer.set_writer(
        [&disk](const GroupCommit::Slot& slot, const json& j) { return disk.write(slot, j); });
    REQUIRE(state.prepare().ok());
    auto n = std::make_unique<FakeNotifier>(dir, dead);
    notifier = n.get();
    std::vector<std::unique_ptr<Notifier>> ns;
    ns.push_back(std::move(n));
    DispatcherSettings ds;
    ds.state_dir = dir.string();
    ds.breaker_threshold = 100;
    dispatcher =
        std::make_unique<Dispatcher>(ds, std::move(ns), nullptr, &registry, clock, &writer);
    tracker = std::make_unique<IncidentTracker>(std::move(s), clock, sink, &state, &metrics);
    tracker->use_group_commit(writer,
                              [this](std::function<void()> f) { posts.post(std::move(f)); });
    sink.next = dispatcher.get();
    sink.tracker = tracker.get();
    tracker->load();
    REQUIRE(dispatcher->start().ok());
  }
  // A failed REQUIRE leaves the disk paused; the writer's thread must still finish to be joined.
  ~Process() { disk_->pause(false); }
  Disk* disk_;
  // Drives the pipeline thread until `done` holds (the writer and the worker run on their own).
  template <class Pred>
  bool until(Pred done) {
    return test::eventually([&] {
      posts.run();
      return done();
    });
  }
};

}  // namespace

TEST_CASE("group commit: nothing reaches a notifier before the state and the outbox holding it") {
  TempDir dir;
  World w;
  Disk disk;
  Process p(dir.path, disk, w.clock, nullptr);
  disk.pause(true);  // a disk that takes its time
  w.crash(*p.tracker, w.add("cart"));
  w.crash(*p.tracker, w.add("api"));
  // The burst posted one seal, and nothing was written on this thread.
  CHECK(p.posts.pending() == 1);
  CHECK(p.tracker->held() == 2);
  p.posts.run();  // the seal: the snapshot goes to the writer, which waits for the disk
  CHECK(p.tracker->held() == 2);
  CHECK(p.notifier->sent().empty());
  CHECK_FALSE(fs::exists(dir.path / "incidents.json"));
  CHECK(p.dispatcher->pending() == 0);  // the tracker holds them: not handed on yet
  disk.pause(false);
  REQUIRE(p.until([&] { return p.notifier->sent().size() == 2; }));
  for (const auto& d : p.notifier->sent()) {
    CHECK(d.event == "incident.opened");
    CHECK(d.state_recorded);
    CHECK(d.outbox_held);
  }
  // Incident state first, then the outbox with both messages (and the confirmations after it).
  auto log = disk.log();
  REQUIRE(log.size() >= 2);
  CHECK(log[0] == "incidents");
  CHECK(log[1] == "outbox-fake");
  REQUIRE(p.until([&] { return p.tracker->held() == 0 && p.dispatcher->pending() == 0; }));
}

TEST_CASE("group commit: a paused outbox write keeps its messages from the worker") {
  TempDir dir;
  World w;
  Disk disk;
  Process p(dir.path, disk, w.clock, nullptr);
  w.crash(*p.tracker, w.add("cart"));
  p.posts.run();  // the seal: the snapshot goes to the writer
  // Waits for the state write without running its completion: run here, the completion would
  // hand the alert on and its outbox could be written before the disk pauses (seen under ASan).
  REQUIRE(test::eventually([&] { return disk.count("incidents") == 1; }));
  disk.pause(true);
  // The completion: the alert goes to the dispatcher, its outbox waits for the disk.
  REQUIRE(p.until([&] { return p.dispatcher->pending() == 1; }));
  CHECK(p.notifier->sent().empty());
  CHECK(p.dispatcher->outbox_snapshot()["fake"].size() == 1);  // mirrored for HA already
  disk.pause(false);
  REQUIRE(p.until([&] { return p.notifier->sent().size() == 1; }));
  CHECK(p.notifier->sent()[0].outbox_held);
  CHECK(p.notifier->sent()[0].state_recorded);
}

TEST_CASE("group commit: a burst is one write per file") {
  TempDir dir;
  World w;
  Disk disk;
  Process p(dir.path, disk, w.clock, nullptr);
  // A slot of the test's, to keep the writer busy in a batch of its own.
  auto blocker = p.writer.add({"blocker", -1, [](const json&) { return Result<Ok>(Ok{}); }});
  disk.pause(true);
  for (int i = 0; i < 50; ++i) w.crash(*p.tracker, w.add("svc" + std::to_string(i)));
  CHECK(p.posts.pending() == 1);  // one seal for the whole burst
  p.posts.run();
  CHECK(p.tracker->held() == 50);
  REQUIRE(test::eventually([&] { return disk.waiters() == 1; }));
  disk.pause(false);
  REQUIRE(test::eventually([&] { return disk.count("incidents") == 1; }));
  // While the completion hands the 50 alerts on (and they are confirmed), the writer is busy.
  disk.pause(true);
  p.writer.submit(blocker, std::make_shared<const json>(json::object()), 0);
  REQUIRE(test::eventually([&] { return disk.waiters() == 1; }));
  p.posts.run();
  CHECK(p.tracker->held() == 0);
  CHECK(p.dispatcher->pending() == 50);
  CHECK(p.notifier->sent().empty());
  disk.pause(false);
  REQUIRE(p.until([&] { return p.notifier->sent().size() == 50; }));
  // One batch after the blocker: the outbox with all 50 messages, then the 50 confirmations.
  auto log = disk.log();
  REQUIRE(log.size() >= 4);
  CHECK(log[0] == "incidents");
  CHECK(log[1] == "blocker");
  CHECK(log[2] == "outbox-fake");
  CHECK(log[3] == "incidents");
  std::lock_guard lock(disk.mu);
  REQUIRE(!disk.outbox_sizes.empty());
  CHECK(disk.outbox_sizes[0] == 50);
}

TEST_CASE("group commit: a failing writer holds announcements until hold_unsaved") {
  TempDir dir;
  World w;
  Disk disk;
  auto s = settings();
  s.sink_confirms_alerts = false;
  Process p(dir.path, disk, w.clock, nullptr, s);
  std::atomic<bool> full{true};  // the volume is full (StateFile's own write seam)
  p.state.set_writer([&full](int fd, const char* data, std::size_t n) -> ssize_t {
    if (!full) return ::write(fd, data, n);
    errno = ENOSPC;
    return -1;
  });
  auto errors = [&] {
    return test::counter_value(p.registry, "podmedic_state_write_errors_total",
                               {{"file", "incidents"}});
  };
  w.crash(*p.tracker, w.add("cart"));
  REQUIRE(p.until([&] { return errors() == 1 && p.posts.pending() == 0; }));
  // The write failed: the alert stays held, counted, reported, and retried every tick.
  CHECK(p.tracker->held() == 1);
  CHECK_FALSE(p.tracker->state_ok());
  w.clock.advance(10s);
  p.tracker->tick();
  REQUIRE(p.until([&] { return errors() == 2 && p.posts.pending() == 0; }));
  CHECK(p.tracker->held() == 1);
  CHECK(p.notifier->sent().empty());
  // Failing for hold_unsaved (30 s): it goes out unsaved rather than never.
  w.clock.advance(21s);
  p.tracker->tick();
  CHECK(p.tracker->held() == 0);
  REQUIRE(p.until([&] { return p.notifier->sent().size() == 1; }));
  CHECK_FALSE(p.notifier->sent()[0].state_recorded);
  CHECK(p.notifier->sent()[0].outbox_held);
  // The volume comes back: a later tick writes the state, /readyz turns ready.
  full = false;
  REQUIRE(p.until([&] {
    p.tracker->tick();
    return p.tracker->state_ok();
  }));
  REQUIRE(p.until([&] { return fs::exists(dir.path / "incidents.json"); }));
}

TEST_CASE("group commit: a crash at any write neither forgets nor re-announces") {
  // Writes of one opening, in order: 0 the state announcing it, 1 the outbox holding its
  // message, then the state confirming it (pending_alert off). The disk freezes at write
  // `crash_at` (-1: no crash, a clean stop); a second process then starts from what is on disk,
  // still seeing the pod fail.
  auto [crash_at, at_most] = GENERATE(table<long, std::size_t>({
      {0, 1},   // before the state: the restart announces it (first start) once
      {1, 1},   // state written, outbox not: the restart re-announces the pending alert, once
      {2, 2},   // outbox written, not the confirmation: repeated rather than lost
      {-1, 1},  // no crash: neither repeated nor lost
  }));
  CAPTURE(crash_at);
  TempDir dir;
  World w;
  std::vector<Delivery> sent;
  auto& pod = w.add("cart");
  {
    Disk disk;
    disk.crash_at = crash_at;
    Process p(dir.path, disk, w.clock, &disk.crashed);
    w.crash(*p.tracker, pod);
    if (crash_at >= 0) {
      REQUIRE(p.until([&] { return disk.crashed.load(); }));
    } else {
      REQUIRE(p.until([&] {
        return p.notifier->sent().size() == 1 && p.dispatcher->pending() == 0 &&
               p.tracker->held() == 0;
      }));
      p.tracker->flush();  // a clean stop
      p.dispatcher->stop();
    }
    sent = p.notifier->sent();
  }  // the process is gone
  Disk disk;
  Process p(dir.path, disk, w.clock, nullptr);
  w.feed(*p.tracker, pod);
  p.tracker->tick();
  REQUIRE(p.until([&] {
    return p.tracker->held() == 0 && p.dispatcher->pending() == 0 && p.posts.pending() == 0;
  }));
  for (const auto& d : p.notifier->sent()) sent.push_back(d);
  // Every delivery happened with the state and the outbox recording it on disk.
  std::set<std::string> ids;  // a redelivery keeps its id (receivers drop duplicates)
  for (const auto& d : sent) {
    CHECK(d.event == "incident.opened");
    CHECK(d.state_recorded);
    CHECK(d.outbox_held);
    ids.insert(d.id);
  }
  CHECK(ids.size() >= 1);  // never forgotten
  CHECK(ids.size() <= at_most);
  CHECK(p.tracker->open_count() == 1);
}
