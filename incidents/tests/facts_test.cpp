// The facts text: the exact line of each shape, read from real stores fed through the decoder;
// the event message redacted before it is cut, and cut on a UTF-8 boundary.
#include <catch2/catch.hpp>

#include <string>

#include "core/parse.h"
#include "incidents/facts.h"
#include "sim/objects.h"
#include "tests/support.h"

using namespace podmedic;

namespace {

constexpr std::int64_t kNow = 1790000000;

void add(watcher::ReflectorSink& store, const nlohmann::json& object) {
  test::Padded p(R"({"type":"ADDED","object":)" + parse::dump(object) + "}");
  auto r = store.apply_watch_line(p.view(), p.capacity());
  REQUIRE(r.ok());
}

// A stand-in for diagnosis::Redactor::seal: "hunter2hunter2" is the secret.
Redacted fake_seal(std::string_view text) {
  std::string s(text);
  const std::string secret = "hunter2hunter2";
  for (auto p = s.find(secret); p != std::string::npos; p = s.find(secret, p))
    s.replace(p, secret.size(), "[REDACTED]");
  return Redacted::from_state(std::move(s));
}

incidents::Incident oom(std::vector<std::string> pods) {
  incidents::Incident i;
  i.id = "1a2b3c4d5e6f7a8b";
  i.ns = "shop";
  i.reason = "OOMKilled";
  i.workload = {"Deployment", "cart"};
  i.container = "app";
  i.all_pods = std::move(pods);
  i.restarts = 4;
  i.exit_code = 137;
  i.first_seen = kNow;
  return i;
}

struct Stores {
  Interner interner;
  watcher::PodStore pods{interner};
  watcher::EventStore events{interner};
  incidents::Facts facts{pods, events, interner, fake_seal};
  // An OOMKilled pod of Deployment cart in the store, with one warning event `message`.
  void failing_pod(const std::string& name, const std::string& message) {
    sim::PodTemplate t;
    t.ns = "shop";
    t.name = name;
    t.deployment = "cart";
    auto pod = sim::make_pod(t, kNow);
    sim::set_crashloop(pod, "app", 137, "OOMKilled", kNow);
    add(pods, pod);
    add(events, sim::make_pod_event(pod, "app", "Warning", "BackOff", message, 3, kNow));
  }
};

}  // namespace

TEST_CASE("facts: the incident alone when none of its pods is in the store") {
  Stores s;
  CHECK(s.facts.describe(oom({"cart-a", "cart-b"})) ==
        "[shop] OOMKilled Deployment/cart container app: 2 pods, exit 137 (SIGKILL: out of memory "
        "or killed), 4 restarts");
  auto crash = oom({"cart-a"});
  crash.reason = "CrashLoopBackOff";
  crash.exit_code = 0;
  crash.restarts = 1;
  CHECK(s.facts.describe(crash) ==
        "[shop] CrashLoopBackOff Deployment/cart container app: 1 pod, 1 restart");
}

TEST_CASE("facts: container facts and the newest warning event of the first pod still stored") {
  Stores s;
  s.failing_pod("cart-b", "Back-off restarting failed container app");
  // cart-a is gone from the store: cart-b speaks for the incident.
  CHECK(s.facts.describe(oom({"cart-a", "cart-b"})) ==
        "[shop] OOMKilled Deployment/cart container app: 2 pods, exit 137 (SIGKILL: out of memory "
        "or killed), 4 restarts, memory limit 256Mi, after running 30 s | BackOff: Back-off "
        "restarting failed container app");
  auto pull = oom({"cart-b"});
  pull.reason = "ImagePullBackOff";
  pull.exit_code = 0;
  CHECK(s.facts.describe(pull) ==
        "[shop] ImagePullBackOff Deployment/cart container app: 1 pod, 4 restarts, image "
        "registry.example.com/shop/app:1.4.2, after running 30 s | BackOff: Back-off restarting "
        "failed container app");
}

TEST_CASE("facts: the event message is redacted, then cut to 160 bytes") {
  Stores s;
  // The secret straddles byte 160: cut first, "hunter2hunte" would be left, which the redactor
  // no longer recognizes.
  std::string message = std::string(145, 'x') + " t=hunter2hunter2 trailing";
  s.failing_pod("cart-a", message);
  auto line = s.facts.describe(oom({"cart-a"}));
  auto bar = line.find(" | BackOff: ");
  REQUIRE(bar != std::string::npos);
  auto cited = line.substr(bar + std::string(" | BackOff: ").size());
  CHECK(cited == std::string(145, 'x') + " t=[REDACTED] t");
  CHECK(cited.size() == incidents::Facts::kMaxEventMessage);
  CHECK(line.find("hunter") == std::string::npos);
}

TEST_CASE("facts: the cut never splits a UTF-8 character") {
  Stores s;
  // 159 ASCII bytes, then "é" (2 bytes) across the 160-byte line, then more.
  std::string message = std::string(159, 'y') + "\xC3\xA9" + "zz";
  s.failing_pod("cart-a", message);
  auto line = s.facts.describe(oom({"cart-a"}));
  auto cited = line.substr(line.find(" | BackOff: ") + std::string(" | BackOff: ").size());
  CHECK(cited == std::string(159, 'y'));
}

TEST_CASE("facts: the resolved line, and the line for each event type") {
  Stores s;
  s.failing_pod("cart-a", "Back-off");
  auto inc = oom({"cart-a", "cart-b"});
  inc.resolved_at = kNow + 120;
  const std::string resolved =
      "[shop] OOMKilled Deployment/cart container app: resolved after 120s (2 pods, 4 restarts)";
  CHECK(incidents::Facts::resolved(inc) == resolved);
  CHECK(s.facts.for_event(incidents::EventType::kResolved, inc) == resolved);
  for (auto t : {incidents::EventType::kOpened, incidents::EventType::kReminder,
                 incidents::EventType::kDigest, incidents::EventType::kDiagnosed}) {
    CHECK(s.facts.for_event(t, inc) == s.facts.describe(inc));
  }
  CHECK(s.facts.describe(inc).find("| BackOff: Back-off") != std::string::npos);
}

TEST_CASE("facts: what the rollout changed comes first; the termination message is redacted") {
  Stores s;
  sim::PodTemplate t;
  t.ns = "shop";
  t.name = "cart-a";
  t.deployment = "cart";
  auto pod = sim::make_pod(t, kNow);
  sim::set_crashloop(pod, "app", 1, "Error", kNow);
  pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["startedAt"] =
      "2026-09-21T14:13:18Z";
  pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"] =
      "2026-09-21T14:13:20Z";
  pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["message"] =
      "db login failed with hunter2hunter2";
  add(s.pods, pod);
  auto inc = oom({"cart-a"});
  inc.reason = "CrashLoopBackOff";
  inc.exit_code = 1;
  inc.changes = {
      {"image", "app", Redacted::from_state("cart:1.0"), Redacted::from_state("cart:1.1")},
      {"env", "app", Redacted(), Redacted::from_state("DB_HOST")}};
  CHECK(
      s.facts.describe(inc) ==
      "[shop] CrashLoopBackOff Deployment/cart container app: after the rollout: image cart:1.1 "
      "(was cart:1.0); env DB_HOST added | 1 pod, exit 1 (application error), 4 restarts, crashed "
      "2 s after start (at start-up) | termination message: db login failed with [REDACTED]");
}
