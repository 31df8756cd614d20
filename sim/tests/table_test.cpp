// Server-side Table printing (what `kubectl get` shows) and pod readiness following the
// containers: STATUS, READY and RESTARTS as kubectl's pod printer computes them.
#include <catch2/catch.hpp>

#include "core/parse.h"
#include "sim/objects.h"
#include "sim/table.h"

using namespace podmedic;
using namespace podmedic::sim;
using json = nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1'790'000'000;

json pod(const std::string& name) {
  PodTemplate t;
  t.ns = "shop";
  t.name = name;
  t.deployment = "cart";
  return make_pod(t, kNow - 3600);
}

std::string condition(const json& pod, const std::string& type) {
  for (const auto& c : pod["status"]["conditions"]) {
    if (c["type"] == type) return c["status"];
  }
  return "";
}

}  // namespace

TEST_CASE("table: the Accept header kubectl get sends") {
  CHECK(
      wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;"
                  "v=v1beta1;g=meta.k8s.io,application/json"));
  CHECK(wants_table("application/json ; as=Table ; g=meta.k8s.io ; v=v1"));
  CHECK_FALSE(wants_table("application/json"));
  CHECK_FALSE(wants_table("application/json;as=Table;v=v1beta1;g=meta.k8s.io"));
  CHECK_FALSE(wants_table(""));
  CHECK_FALSE(wants_table(",,;;"));
}

TEST_CASE("table: ages as Go's HumanDuration") {
  CHECK(human_duration(-5) == "<invalid>");
  CHECK(human_duration(0) == "0s");
  CHECK(human_duration(119) == "119s");
  CHECK(human_duration(310) == "5m10s");
  CHECK(human_duration(600) == "10m");
  CHECK(human_duration(3 * 3600 + 120) == "3h2m");
  CHECK(human_duration(30 * 3600) == "30h");
  CHECK(human_duration(50 * 3600) == "2d2h");
  CHECK(human_duration(400 * 86400) == "400d");
  CHECK(human_duration(3 * 365 * 86400 + 86400) == "3y1d");
}

TEST_CASE("table: pod STATUS, READY and RESTARTS follow the containers") {
  auto p = pod("cart-1");
  auto row = pod_row(p, kNow);
  CHECK(row.status == "Running");
  CHECK(row.ready == "1/1");
  CHECK(row.restarts == "0");
  CHECK(row.age == "60m");
  CHECK(condition(p, "Ready") == "True");

  set_terminated(p, "app", 137, "OOMKilled", kNow - 10);
  row = pod_row(p, kNow);
  CHECK(row.status == "OOMKilled");
  CHECK(row.ready == "0/1");
  CHECK(condition(p, "Ready") == "False");

  set_crashloop(p, "app", 137, "OOMKilled", kNow - 120);
  set_crashloop(p, "app", 137, "OOMKilled", kNow - 60);
  row = pod_row(p, kNow);
  CHECK(row.status == "CrashLoopBackOff");
  CHECK(row.restarts == "2 (60s ago)");
  CHECK(row.ready == "0/1");

  set_running(p, "app", kNow);
  CHECK(pod_row(p, kNow).status == "Running");
  CHECK(pod_row(p, kNow).ready == "1/1");
  CHECK(condition(p, "Ready") == "True");

  // Image pull failures: the pod is Pending and NOT Ready (it used to stay Ready=True).
  auto pull = pod("frontend-1");
  set_waiting(pull, "app", "ImagePullBackOff", "Back-off pulling image \"x\"", kNow);
  row = pod_row(pull, kNow);
  CHECK(row.status == "ImagePullBackOff");
  CHECK(row.ready == "0/1");
  CHECK(condition(pull, "Ready") == "False");
  CHECK(condition(pull, "ContainersReady") == "False");
  CHECK(pull["status"]["phase"] == "Pending");

  auto done = pod("job-1");
  set_terminated(done, "app", 0, "Completed", kNow);
  done["status"]["phase"] = "Succeeded";
  CHECK(pod_row(done, kNow).status == "Completed");
  auto bare = pod("x-1");
  set_terminated(bare, "app", 3, "", kNow);
  CHECK(pod_row(bare, kNow).status == "ExitCode:3");
  set_deleting(bare, kNow);
  CHECK(pod_row(bare, kNow).status == "Terminating");
}

TEST_CASE("table: a pods list becomes a meta.k8s.io/v1 Table keeping paging") {
  auto crashing = pod("cart-2");
  set_crashloop(crashing, "app", 1, "Error", kNow - 30);
  json list = {{"kind", "PodList"},
               {"apiVersion", "v1"},
               {"metadata", {{"resourceVersion", "42"}, {"continue", "abc"}}},
               {"items", {pod("cart-1"), crashing}}};
  auto text = to_table(Res::kPods, parse::dump(list), kNow);
  REQUIRE(text);
  auto t = json::parse(*text);
  CHECK(t["kind"] == "Table");
  CHECK(t["apiVersion"] == "meta.k8s.io/v1");
  CHECK(t["metadata"] == json{{"resourceVersion", "42"}, {"continue", "abc"}});
  std::vector<std::string> names, shown;
  for (const auto& c : t["columnDefinitions"]) {
    names.push_back(c["name"]);
    if (c["priority"] == 0) shown.push_back(c["name"]);
  }
  CHECK(shown == std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age"});
  CHECK(names.size() == 9);
  REQUIRE(t["rows"].size() == 2);
  CHECK(t["rows"][1]["cells"][0] == "cart-2");
  CHECK(t["rows"][1]["cells"][2] == "CrashLoopBackOff");
  CHECK(t["rows"][1]["cells"][3] == "1 (30s ago)");
  CHECK(t["rows"][1]["cells"].size() == names.size());
  // kubectl -A prints NAMESPACE from the row's metadata.
  CHECK(t["rows"][1]["object"]["kind"] == "PartialObjectMetadata");
  CHECK(t["rows"][1]["object"]["metadata"]["namespace"] == "shop");
  CHECK_FALSE(t["rows"][1]["object"]["metadata"].contains("managedFields"));

  // One object (GET): a one-row Table.
  auto one = to_table(Res::kPods, parse::dump(crashing), kNow);
  REQUIRE(one);
  CHECK(json::parse(*one)["rows"].size() == 1);
  // Other resources and bodies that are not JSON objects stay as they are.
  CHECK_FALSE(to_table(Res::kDeployments, parse::dump(list), kNow));
  CHECK_FALSE(to_table(Res::kPods, "not json", kNow));
  CHECK_FALSE(to_table(Res::kPods, "[1,2]", kNow));
  // Wrong types everywhere: cells fall back to defaults, nothing throws.
  auto odd = to_table(Res::kPods,
                      R"({"items":[{"metadata":7,"status":{"containerStatuses":"x"}},null,)"
                      R"({"status":{"containerStatuses":[{"restartCount":"9","state":[]}]}}]})",
                      kNow);
  REQUIRE(odd);
  CHECK(json::parse(*odd)["rows"].size() == 3);
}

TEST_CASE("table: events as LAST SEEN, TYPE, REASON, OBJECT, MESSAGE") {
  auto p = pod("cart-1");
  auto kubelet =
      make_pod_event(p, "app", "Warning", "BackOff", "Back-off restarting", 4, kNow - 90);
  auto sched = make_scheduler_event(p, "Normal", "Scheduled", "Successfully assigned", kNow - 300);
  json list = {
      {"kind", "EventList"}, {"metadata", {{"resourceVersion", "7"}}}, {"items", {kubelet, sched}}};
  auto text = to_table(Res::kEvents, parse::dump(list), kNow);
  REQUIRE(text);
  auto t = json::parse(*text);
  std::vector<std::string> shown;
  for (const auto& c : t["columnDefinitions"]) {
    if (c["priority"] == 0) shown.push_back(c["name"]);
  }
  CHECK(shown == std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Message"});
  const auto& row = t["rows"][0]["cells"];
  CHECK(row[0] == "90s");
  CHECK(row[1] == "Warning");
  CHECK(row[2] == "BackOff");
  CHECK(row[3] == "pod/cart-1");
  CHECK(row[6] == "Back-off restarting");
  CHECK(row[8] == 4);
  // eventTime only (no legacy timestamps): seen then.
  CHECK(t["rows"][1]["cells"][0] == "5m");
  CHECK(t["rows"][1]["cells"][3] == "pod/cart-1");
}
