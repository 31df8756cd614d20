// StateMirror against the simulated API server: the leader's writes of <leaseName>-state (create,
// then updates carrying the resourceVersion of its own last write; a conflict re-reads; a state
// too large for a ConfigMap is skipped) and a new leader's take-over read (the inherited state
// and outbox adopted; a damaged or unreadable ConfigMap leaves the local state).
#include <catch2/catch.hpp>

#include <optional>

#include "core/parse.h"
#include "core/task_group.h"
#include "ha/state_mirror.h"
#include "ha/tests/support.h"

using namespace podmedic;
using namespace podmedic::ha;
using namespace podmedic::ha::test;
using nlohmann::json;

namespace {

MirrorSettings fast() {
  MirrorSettings s;
  s.ns = "podmedic";
  s.configmap = "podmedic-state";
  s.interval = std::chrono::milliseconds(5);
  return s;
}

std::optional<json> configmap(SimCluster& c) {
  return c.server.store().get(sim::Res::kConfigMaps, "podmedic", "podmedic-state");
}

// The ConfigMap's data[key], "" when absent.
std::string data(SimCluster& c, const char* key) {
  auto cm = configmap(c);
  if (!cm || !(*cm)["data"].is_object() || !(*cm)["data"].contains(key)) return "";
  return (*cm)["data"][key].get<std::string>();
}

std::string rv(const json& obj) {
  return obj["metadata"]["resourceVersion"].get<std::string>();
}

// A ConfigMap another replica left behind.
void put_configmap(SimCluster& c, json data_member) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "podmedic-state"}, {"namespace", "podmedic"}}}};
  if (!data_member.is_null()) cm["data"] = std::move(data_member);
  c.server.store().upsert(sim::Res::kConfigMaps, std::move(cm));
}

// What take_over hands on.
struct Adopted {
  std::vector<json> saved;
  std::vector<json> outboxes;
  MirrorHooks hooks() {
    MirrorHooks h;
    h.save_state = [this](const json& j) -> Result<Ok> {
      saved.push_back(j);
      return Ok{};
    };
    h.adopt_outbox = [this](const json& j) {
      outboxes.push_back(j);
      return j.size();
    };
    return h;
  }
};

}  // namespace

TEST_CASE("state_configmap: a create has no resourceVersion, an update carries it") {
  MirrorSettings s = fast();
  auto create = parse::json_text(state_configmap(s, R"({"a":1})", "", ""), "cm");
  REQUIRE(create.ok());
  CHECK((*create)["apiVersion"] == "v1");
  CHECK((*create)["kind"] == "ConfigMap");
  CHECK((*create)["metadata"] == json{{"name", "podmedic-state"}, {"namespace", "podmedic"}});
  CHECK((*create)["data"] == json{{"incidents.json", R"({"a":1})"}});  // empty outbox left out

  auto update = parse::json_text(state_configmap(s, "", R"({"slack-0":[]})", "42"), "cm");
  REQUIRE(update.ok());
  CHECK((*update)["metadata"]["resourceVersion"] == "42");
  CHECK((*update)["data"] == json{{"outbox.json", R"({"slack-0":[]})"}});

  auto empty = parse::json_text(state_configmap(s, "", "", ""), "cm");
  REQUIRE(empty.ok());
  CHECK((*empty)["data"] == json::object());
}

TEST_CASE("mirror_settings: the ConfigMap <leaseName>-state next to the Lease") {
  LeaderSettings lease;
  lease.ns = "ops";
  lease.name = "medic";
  auto s = mirror_settings(lease);
  CHECK(s.ns == "ops");
  CHECK(s.configmap == "medic-state");
  CHECK(s.interval == std::chrono::milliseconds(100));
  CHECK(s.max_bytes == 900 * 1024);
}

TEST_CASE("the mirror writes nothing before take-over, then creates and updates the ConfigMap") {
  SimCluster c;
  StateMirror mirror(*c.client, fast(), {}, &c.peer_errors);
  TaskGroup tasks(c.ioc);  // after the mirror: stopped first
  tasks.spawn("state mirror", mirror.run());

  mirror.state_saved({{"incidents", json::array({"a"})}});
  c.ioc.run_for(std::chrono::milliseconds(50));  // ten rounds of a follower
  CHECK_FALSE(configmap(c));
  CHECK_FALSE(mirror.active());

  c.complete(mirror.take_over());  // 404: a first leader, nothing inherited
  CHECK(mirror.active());
  REQUIRE(run_until(c.ioc, [&] { return configmap(c).has_value(); }));
  CHECK(data(c, "incidents.json") == R"({"incidents":["a"]})");
  CHECK(data(c, "outbox.json").empty());
  const auto created = rv(*configmap(c));
  CHECK(c.server.stats().writes == 1);

  // The next write is an update with the version of our own write: no GET before it.
  const auto gets = c.server.stats().gets;
  mirror.state_saved({{"incidents", json::array({"a", "b"})}});
  REQUIRE(
      run_until(c.ioc, [&] { return data(c, "incidents.json") == R"({"incidents":["a","b"]})"; }));
  CHECK(rv(*configmap(c)) != created);
  CHECK(c.server.stats().writes == 2);
  CHECK(c.server.stats().gets == gets);

  // Nothing changed: nothing written.
  c.ioc.run_for(std::chrono::milliseconds(50));
  CHECK(c.server.stats().writes == 2);
}

TEST_CASE("the mirror re-reads the ConfigMap after a conflict and writes its state over it") {
  SimCluster c;
  StateMirror mirror(*c.client, fast(), {}, &c.peer_errors);
  TaskGroup tasks(c.ioc);
  tasks.spawn("state mirror", mirror.run());
  c.complete(mirror.take_over());
  mirror.state_saved({{"v", 1}});
  REQUIRE(run_until(c.ioc, [&] { return data(c, "incidents.json") == R"({"v":1})"; }));

  // Someone else writes it: our next PUT carries a stale resourceVersion (409 Conflict).
  put_configmap(c, {{"incidents.json", "theirs"}});
  const auto gets = c.server.stats().gets;
  const auto writes = c.server.stats().writes;
  mirror.state_saved({{"v", 2}});
  REQUIRE(run_until(c.ioc, [&] { return data(c, "incidents.json") == R"({"v":2})"; }));
  CHECK(c.server.stats().gets > gets);           // the version was read again
  CHECK(c.server.stats().writes == writes + 1);  // the conflicting PUT wrote nothing
}

TEST_CASE(
    "the mirror creates the ConfigMap again when it was deleted, and retries a failed write") {
  SimCluster c;
  StateMirror mirror(*c.client, fast(), {}, &c.peer_errors);
  TaskGroup tasks(c.ioc);
  tasks.spawn("state mirror", mirror.run());
  c.complete(mirror.take_over());
  c.server.inject({"/api/v1/namespaces/podmedic/configmaps", sim::Fault::kAny, 500, 3});
  mirror.state_saved({{"v", 1}});
  REQUIRE(run_until(c.ioc, [&] { return data(c, "incidents.json") == R"({"v":1})"; }));
  CHECK(c.server.stats().faults == 3);

  // Deleted under us: the PUT's 404 makes the next round read (404) and create it.
  REQUIRE(c.server.store().remove(sim::Res::kConfigMaps, "podmedic", "podmedic-state"));
  mirror.state_saved({{"v", 2}});
  REQUIRE(run_until(c.ioc, [&] { return data(c, "incidents.json") == R"({"v":2})"; }));
}

TEST_CASE("a state too large for a ConfigMap is skipped; a smaller one is mirrored again") {
  SimCluster c;
  auto s = fast();
  s.max_bytes = 64;
  json outbox = json::object();
  MirrorHooks hooks;
  hooks.outbox_snapshot = [&outbox] { return outbox; };
  StateMirror mirror(*c.client, s, hooks, &c.peer_errors);
  TaskGroup tasks(c.ioc);
  tasks.spawn("state mirror", mirror.run());
  c.complete(mirror.take_over());

  mirror.state_saved({{"big", std::string(100, 'x')}});
  c.ioc.run_for(std::chrono::milliseconds(50));
  CHECK_FALSE(configmap(c));
  CHECK(c.server.stats().writes == 0);

  // State and outbox count together.
  outbox = {{"slack-0", std::string(60, 'y')}};
  mirror.state_saved({{"v", 1}});
  c.ioc.run_for(std::chrono::milliseconds(50));
  CHECK_FALSE(configmap(c));

  outbox = {{"slack-0", "y"}};
  REQUIRE(run_until(c.ioc, [&] { return configmap(c).has_value(); }));
  CHECK(data(c, "incidents.json") == R"({"v":1})");
  CHECK(data(c, "outbox.json") == R"({"slack-0":"y"})");
}

TEST_CASE("a changed outbox is mirrored even when the state is not") {
  SimCluster c;
  json outbox = json::object();
  MirrorHooks hooks;
  hooks.outbox_snapshot = [&outbox] { return outbox; };
  StateMirror mirror(*c.client, fast(), hooks, &c.peer_errors);
  TaskGroup tasks(c.ioc);
  tasks.spawn("state mirror", mirror.run());
  c.complete(mirror.take_over());
  mirror.state_saved({{"v", 1}});
  REQUIRE(run_until(c.ioc, [&] { return data(c, "outbox.json") == "{}"; }));
  outbox = {{"slack-0", json::array({"delivery-1"})}};
  REQUIRE(
      run_until(c.ioc, [&] { return data(c, "outbox.json") == R"({"slack-0":["delivery-1"]})"; }));
  CHECK(data(c, "incidents.json") == R"({"v":1})");

  // Stopped (lost the Lease): no more writes.
  mirror.stop();
  const auto writes = c.server.stats().writes;
  outbox = json::object();
  c.ioc.run_for(std::chrono::milliseconds(50));
  CHECK(c.server.stats().writes == writes);
}

TEST_CASE("take-over adopts the mirrored state and outbox and mirrors the inherited state on") {
  SimCluster c;
  put_configmap(c, {{"incidents.json", R"({"incidents":[{"id":"a"}]})"},
                    {"outbox.json", R"({"slack-0":[{"id":"d1"}]})"}});
  Adopted adopted;
  auto hooks = adopted.hooks();
  hooks.outbox_snapshot = [] { return json{{"slack-0", json::array()}}; };
  StateMirror mirror(*c.client, fast(), hooks, &c.peer_errors);
  TaskGroup tasks(c.ioc);
  tasks.spawn("state mirror", mirror.run());
  c.complete(mirror.take_over());
  REQUIRE(adopted.saved.size() == 1);
  CHECK(adopted.saved[0] == json{{"incidents", json::array({{{"id", "a"}}})}});
  REQUIRE(adopted.outboxes.size() == 1);
  CHECK(adopted.outboxes[0] == json{{"slack-0", json::array({{{"id", "d1"}}})}});
  CHECK(mirror.active());
  CHECK(c.peer_errors.value(Peer::kApiServer, PeerFault::kMalformed) == 0);

  // The outbox changed (delivered): the next write keeps the inherited state, not an empty one.
  REQUIRE(run_until(c.ioc, [&] { return data(c, "outbox.json") == R"({"slack-0":[]})"; }));
  CHECK(data(c, "incidents.json") == R"({"incidents":[{"id":"a"}]})");
}

TEST_CASE("take-over with a damaged or unreadable ConfigMap keeps the local state") {
  SimCluster c;
  Adopted adopted;
  StateMirror mirror(*c.client, fast(), adopted.hooks(), &c.peer_errors);

  SECTION("data is not an object: counted as a malformed answer") {
    put_configmap(c, "not a map");
    c.complete(mirror.take_over());
    CHECK(c.peer_errors.value(Peer::kApiServer, PeerFault::kMalformed) == 1);
  }
  SECTION("no data at all") {
    put_configmap(c, nullptr);
    c.complete(mirror.take_over());
    CHECK(c.peer_errors.value(Peer::kApiServer, PeerFault::kMalformed) == 1);
  }
  SECTION("texts that are not JSON objects") {
    put_configmap(c, {{"incidents.json", "{\"incidents\":["}, {"outbox.json", "[1,2]"}});
    c.complete(mirror.take_over());
    CHECK(c.peer_errors.value(Peer::kApiServer, PeerFault::kMalformed) == 0);
  }
  SECTION("the API server fails the read") {
    c.server.inject({"/api/v1/namespaces/podmedic/configmaps", sim::Fault::kAny, 500, 1});
    c.complete(mirror.take_over());
    CHECK(c.server.stats().faults == 1);
  }
  CHECK(adopted.saved.empty());
  CHECK(adopted.outboxes.empty());
  CHECK(mirror.active());  // leads anyway, from the local state
}

TEST_CASE("take-over: a state that cannot be saved locally is still mirrored on") {
  SimCluster c;
  put_configmap(c, {{"incidents.json", R"({"v":1})"}});
  MirrorHooks hooks;
  bool tried = false;
  hooks.save_state = [&tried](const json&) -> Result<Ok> {
    tried = true;
    return Error{"disk full"};
  };
  json outbox = json::object();
  hooks.outbox_snapshot = [&outbox] { return outbox; };
  StateMirror mirror(*c.client, fast(), hooks, &c.peer_errors);
  TaskGroup tasks(c.ioc);
  tasks.spawn("state mirror", mirror.run());
  c.complete(mirror.take_over());
  CHECK(tried);
  CHECK(mirror.active());
  REQUIRE(run_until(c.ioc, [&] { return data(c, "outbox.json") == "{}"; }));
  CHECK(data(c, "incidents.json") == R"({"v":1})");
}
