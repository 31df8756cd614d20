// Table-driven detection tests over realistic pod JSON (built by the simulator's kubelet-like
// transitions, and a recorded fixture), decoded exactly as the watcher decodes them.
#include <catch2/catch.hpp>

#include "rules/detect.h"
#include "sim/objects.h"
#include "tests/support.h"

using namespace podmedic;
using json = nlohmann::json;

namespace {
struct Env {
  Interner in;
  k8s::Decoder dec{in};
  rules::Detector det{in, rules::DetectSettings{}};
  k8s::PodView view(const json& pod) {
    test::Padded line(json{{"type", "MODIFIED"}, {"object", pod}}.dump());
    k8s::WatchHeader h;
    k8s::PodView v;
    REQUIRE(dec.watch_pod(line.view(), line.capacity(), h, v).ok());
    return v;
  }
};
json base() {
  sim::PodTemplate t;
  t.ns = "shop";
  t.name = "cart-7d9f8b6c5d-abcde";
  t.deployment = "cart";
  return sim::make_pod(t, 1'790'000'000);
}
}  // namespace

TEST_CASE("detection table: every reason and every not-a-crash case") {
  struct Row {
    const char* name;
    std::function<void(json&)> mutate;
    const char* want;  // empty: no finding
  };
  std::vector<Row> rows = {
      {"healthy running pod", [](json&) {}, ""},
      {"crash loop after exit 1",
       [](json& p) { sim::set_crashloop(p, "app", 1, "Error", 1'790'000'100); },
       "CrashLoopBackOff"},
      {"OOM behind a crash loop is OOMKilled",
       [](json& p) { sim::set_crashloop(p, "app", 137, "OOMKilled", 1'790'000'100); }, "OOMKilled"},
      {"OOM still in state.terminated",
       [](json& p) { sim::set_terminated(p, "app", 137, "OOMKilled", 1'790'000'100); },
       "OOMKilled"},
      {"image pull back-off",
       [](json& p) {
         sim::set_waiting(p, "app", "ImagePullBackOff", "Back-off pulling image \"x\"");
       },
       "ImagePullBackOff"},
      {"ErrImagePull folds into ImagePullBackOff",
       [](json& p) { sim::set_waiting(p, "app", "ErrImagePull", "rpc error"); },
       "ImagePullBackOff"},
      {"ContainerCreating is not a failure",
       [](json& p) { sim::set_waiting(p, "app", "ContainerCreating", ""); }, ""},
      {"config error is off by default",
       [](json& p) {
         sim::set_waiting(p, "app", "CreateContainerConfigError", "configmap \"c\" not found");
       },
       ""},
      {"deleting pod in a crash loop is ignored",
       [](json& p) {
         sim::set_crashloop(p, "app", 1, "Error", 1'790'000'100);
         sim::set_deleting(p, 1'790'000'100);
       },
       ""},
      {"rollout SIGTERM exit 143 is not a crash",
       [](json& p) { sim::set_terminated(p, "app", 143, "Error", 1'790'000'100); }, ""},
      {"completed job container is not a crash",
       [](json& p) {
         sim::set_terminated(p, "app", 0, "Completed", 1'790'000'100);
         p["status"]["phase"] = "Succeeded";
       },
       ""},
      {"recovered after an old OOM is healthy",
       [](json& p) {
         sim::set_crashloop(p, "app", 137, "OOMKilled", 1'790'000'100);
         sim::set_running(p, "app", 1'790'000'200);
       },
       ""},
      {"opted-out pod is ignored",
       [](json& p) {
         sim::set_crashloop(p, "app", 1, "Error", 1'790'000'100);
         p["metadata"]["annotations"]["podmedic.io/ignore"] = "true";
       },
       ""},
  };
  for (auto& row : rows) {
    Env env;
    auto p = base();
    row.mutate(p);
    auto f = env.det.current(env.view(p));
    INFO(row.name);
    if (std::string(row.want).empty()) {
      CHECK(f.empty());
    } else {
      REQUIRE(f.size() == 1);
      CHECK(f[0].reason == row.want);
      CHECK(env.in.view(f[0].container) == "app");
    }
  }
}

TEST_CASE("the recorded OOM fixture yields one OOMKilled finding with exit 137") {
  Env env;
  test::Padded line(test::read_fixture("pods/oom_behind_crashloop.json"));
  k8s::WatchHeader h;
  k8s::PodView v;
  REQUIRE(env.dec.watch_pod(line.view(), line.capacity(), h, v).ok());
  auto f = env.det.current(v);
  REQUIRE(f.size() == 1);
  CHECK(f[0].reason == "OOMKilled");
  CHECK(f[0].exit_code == 137);
  CHECK(f[0].restarts == 5);
}

TEST_CASE("evaluate reports transitions once and a new OOM again") {
  Env env;
  auto p = base();
  sim::set_crashloop(p, "app", 137, "OOMKilled", 1'790'000'100);
  auto v1 = env.view(p);
  CHECK(env.det.evaluate(nullptr, v1).size() == 1);
  auto v1b = env.view(p);
  CHECK(env.det.evaluate(&v1, v1b).empty());  // the same state again: no news
  sim::set_crashloop(p, "app", 137, "OOMKilled", 1'790'000'400);
  auto v2 = env.view(p);
  auto f = env.det.evaluate(&v1, v2);
  REQUIRE(f.size() == 1);  // a new termination is news
  CHECK(f[0].restarts == 2);
}

TEST_CASE("init containers count and other reasons can be enabled") {
  Interner in;
  k8s::Decoder dec{in};
  rules::Detector det{in,
                      rules::DetectSettings{{"CrashLoopBackOff", "CreateContainerConfigError"}}};
  auto p = base();
  p["spec"]["initContainers"] = json::array({{{"name", "migrate"}, {"image", "m:1"}}});
  p["status"]["initContainerStatuses"] =
      json::array({{{"name", "migrate"},
                    {"restartCount", 3},
                    {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
                    {"lastState", {{"terminated", {{"exitCode", 2}, {"reason", "Error"}}}}}}});
  sim::set_waiting(p, "app", "CreateContainerConfigError", "secret \"db\" not found");
  test::Padded line(json{{"type", "ADDED"}, {"object", p}}.dump());
  k8s::WatchHeader h;
  k8s::PodView v;
  REQUIRE(dec.watch_pod(line.view(), line.capacity(), h, v).ok());
  auto f = det.current(v);
  REQUIRE(f.size() == 2);
  CHECK(f[0].init);
  CHECK(f[0].reason == "CrashLoopBackOff");
  CHECK(f[0].exit_code == 2);
  CHECK(f[1].reason == "CreateContainerConfigError");
}

TEST_CASE("ignored containers are never reported") {
  Interner in;
  k8s::Decoder dec{in};
  rules::DetectSettings s;
  s.ignore_containers = {"app"};
  rules::Detector det{in, s};
  auto p = base();
  sim::set_crashloop(p, "app", 1, "Error", 1'790'000'100);
  test::Padded line(json{{"type", "ADDED"}, {"object", p}}.dump());
  k8s::WatchHeader h;
  k8s::PodView v;
  REQUIRE(dec.watch_pod(line.view(), line.capacity(), h, v).ok());
  CHECK(det.current(v).empty());
}
