// Leader election: the settings derived from ha: and the environment, and LeaderElector against
// the simulated API server (create, renew, a contender that stays a follower, take-over of an
// expired Lease, leadership lost when renewals fail, an unreadable Lease).
#include <catch2/catch.hpp>

#include <regex>

#include "core/task_group.h"
#include "ha/leader.h"
#include "ha/tests/support.h"

using namespace podmedic;
using namespace podmedic::ha;
using namespace podmedic::ha::test;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

LeaderSettings fast(const std::string& identity) {
  LeaderSettings s;
  s.ns = "podmedic";
  s.name = "podmedic";
  s.identity = identity;
  s.lease_duration = milliseconds(600);
  s.renew_deadline = milliseconds(400);
  s.retry_period = milliseconds(100);
  return s;
}

json lease(SimCluster& c) {
  auto l = c.server.store().get(sim::Res::kLeases, "podmedic", "podmedic");
  REQUIRE(l);
  return *l;
}

// One replica: its elector, how often it was elected and stopped, and the TaskGroup that runs it
// (stopping the group is the replica dying without a word).
struct Replica {
  int started = 0, stopped = 0;
  LeaderElector elector;
  TaskGroup tasks;
  Replica(SimCluster& c, const std::string& identity)
      : elector(
            *c.client, fast(identity), [this] { ++started; }, [this] { ++stopped; },
            &c.peer_errors),
        tasks(c.ioc) {
    tasks.spawn("leader election", elector.run());
  }
};

}  // namespace

TEST_CASE("leader_settings: configured values first, then the environment") {
  HaConfig c;
  c.lease_name = "medic";
  c.lease_duration = milliseconds(9000);
  c.renew_deadline = milliseconds(6000);
  c.retry_period = milliseconds(1000);
  Environment env{"ops", "podmedic-7d9f-0", "node-host"};

  SECTION("ha.leaseNamespace and ha.identity win") {
    c.lease_namespace = "medic-system";
    c.identity = "replica-a";
    auto s = leader_settings(c, env);
    CHECK(s.ns == "medic-system");
    CHECK(s.identity == "replica-a");
  }
  SECTION("unset: $POD_NAMESPACE and $POD_NAME") {
    auto s = leader_settings(c, env);
    CHECK(s.ns == "ops");
    CHECK(s.identity == "podmedic-7d9f-0");
  }
  SECTION("outside a pod: \"default\" and the host name") {
    auto s = leader_settings(c, Environment{"", "", "node-host"});
    CHECK(s.ns == "default");
    CHECK(s.identity == "node-host");
  }
  auto s = leader_settings(c, env);
  CHECK(s.name == "medic");
  CHECK(s.lease_duration == milliseconds(9000));
  CHECK(s.renew_deadline == milliseconds(6000));
  CHECK(s.retry_period == milliseconds(1000));
}

TEST_CASE("micro_time_now has the Lease MicroTime format") {
  CHECK(
      std::regex_match(micro_time_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
}

TEST_CASE("a lone replica creates the Lease, leads and renews it") {
  SimCluster c;
  Replica a(c, "replica-a");
  REQUIRE(run_until(c.ioc, [&] { return a.elector.leading(); }));
  CHECK(a.started == 1);
  auto l = lease(c);
  CHECK(l["spec"]["holderIdentity"] == "replica-a");
  CHECK(l["spec"]["leaseDurationSeconds"] == 1);  // 600 ms, at least a second
  CHECK(l["spec"]["leaseTransitions"] == 0);
  CHECK(l["spec"]["acquireTime"] == l["spec"]["renewTime"]);
  const auto first = l["spec"]["renewTime"];
  REQUIRE(run_until(c.ioc, [&] { return lease(c)["spec"]["renewTime"] != first; }));
  CHECK(lease(c)["spec"]["acquireTime"] == l["spec"]["acquireTime"]);  // renewed, not re-taken
  CHECK(a.stopped == 0);
  CHECK_FALSE(a.elector.lost());
}

TEST_CASE("a contender stays a follower while the leader renews, and takes an expired Lease") {
  SimCluster c;
  auto a = std::make_unique<Replica>(c, "replica-a");
  REQUIRE(run_until(c.ioc, [&] { return a->elector.leading(); }));
  Replica b(c, "replica-b");
  // Longer than a lease duration: the leader's renewals keep it.
  c.ioc.run_for(milliseconds(900));
  CHECK_FALSE(b.elector.leading());
  CHECK(b.started == 0);
  CHECK(lease(c)["spec"]["holderIdentity"] == "replica-a");

  a.reset();  // dies: its Lease just stops being renewed
  auto died = std::chrono::steady_clock::now();
  REQUIRE(run_until(c.ioc, [&] { return b.elector.leading(); }));
  CHECK(std::chrono::steady_clock::now() - died >= milliseconds(600) - milliseconds(100));
  CHECK(b.started == 1);
  auto l = lease(c);
  CHECK(l["spec"]["holderIdentity"] == "replica-b");
  CHECK(l["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("renewals failing past the renew deadline lose the leadership") {
  SimCluster c;
  Replica a(c, "replica-a");
  REQUIRE(run_until(c.ioc, [&] { return a.elector.leading(); }));
  c.server.inject(
      {"/apis/coordination.k8s.io/v1/namespaces/podmedic/leases", sim::Fault::kAny, 500, 1000});
  REQUIRE(run_until(c.ioc, [&] { return a.stopped == 1; }));
  CHECK_FALSE(a.elector.leading());
  CHECK(a.elector.lost());
  CHECK(a.tasks.running() == 0);  // run() returned
}

TEST_CASE("an unreadable Lease is counted and never taken; a bad transition count restarts at 1") {
  SimCluster c;
  SECTION("spec is not an object") {
    c.server.store().upsert(
        sim::Res::kLeases,
        {{"metadata", {{"name", "podmedic"}, {"namespace", "podmedic"}}}, {"spec", "taken"}});
    Replica a(c, "replica-a");
    REQUIRE(run_until(
        c.ioc, [&] { return c.peer_errors.value(Peer::kApiServer, PeerFault::kMalformed) >= 2; }));
    CHECK_FALSE(a.elector.leading());
    CHECK(lease(c)["spec"] == "taken");
  }
  SECTION("a negative leaseTransitions held by a replica that stopped renewing") {
    c.server.store().upsert(sim::Res::kLeases,
                            {{"metadata", {{"name", "podmedic"}, {"namespace", "podmedic"}}},
                             {"spec",
                              {{"holderIdentity", "ghost"},
                               {"renewTime", "2026-01-01T00:00:00.000000Z"},
                               {"leaseTransitions", -5}}}});
    Replica a(c, "replica-a");
    REQUIRE(run_until(c.ioc, [&] { return a.elector.leading(); }));
    auto l = lease(c);
    CHECK(l["spec"]["holderIdentity"] == "replica-a");
    CHECK(l["spec"]["leaseTransitions"] == 1);
  }
}
