#pragma once
// Shared set-up of the end-to-end tests that run the podmedic binary: a scratch directory with
// a simulated cluster (TLS, bearer token) and its kubeconfig, crashing a Deployment's pods, the
// HTTP port the binary logged, and reading one series from a /metrics exposition.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/objects.h"
#include "tests/process.h"

namespace podmedic::test {

// The HTTP port a running podmedic logged ("http server listening"), or 0 while not yet.
inline unsigned http_port_of(Child& podmedic) {
  std::istringstream lines(podmedic.output());
  unsigned port = 0;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("msg") && j["msg"] == "http server listening" &&
        j.contains("port") && j["port"].is_number_unsigned())
      port = j["port"].get<unsigned>();
  }
  return port;
}

// A scratch directory (with state/ inside) and a simulated cluster with its kubeconfig written
// there, optionally `steps` demo steps in (payments/api then crashes, logging a DSN with a
// password). The directory goes when the test ends.
struct E2eCluster {
  std::filesystem::path dir;
  BackgroundSim sim;
  explicit E2eCluster(const std::string& tag, int steps = 0)
      : dir(std::filesystem::temp_directory_path() /
            ("podmedic-" + tag + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "state");
    sim.call([&] {
      for (int i = 0; i < steps; ++i) sim.cluster.step();
    });
    std::ofstream(dir / "kubeconfig")
        << sim.call([&] { return sim.server.kubeconfig("kubectl-test-token"); });
  }
  ~E2eCluster() { std::filesystem::remove_all(dir); }
  // Every pod of the Deployment exits 1 and waits in CrashLoopBackOff.
  void crash(const std::string& ns, const std::string& deployment) {
    sim.call([&] {
      for (const auto& name : sim.cluster.pods_of(ns, deployment)) {
        sim.server.set_logs(ns, name, "app", "", "starting\nfatal: cannot open /data\n");
        auto pod = *sim.server.store().get(sim::Res::kPods, ns, name);
        sim::set_crashloop(pod, "app", 1, "Error", ++sim.now);
        sim.server.store().upsert(sim::Res::kPods, pod);
      }
    });
  }
  // Both watches (pods and events) are open.
  bool watching() {
    return sim.call([&] { return sim.server.open_watches(); }) >= 2;
  }
};

// The value of one series (name{labels} exactly as exposed) in a Prometheus text exposition,
// or -1 when absent.
inline double metric(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0)
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
  }
  return -1;
}

}  // namespace podmedic::test
