#pragma once
// Shared fixtures of the notifier tests: a realistic incident, and a scratch state.dir with a
// registry and fast dispatcher settings (backoff 20 ms up to `cap`, breaker out of the way).
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/registry.h>

#include "incidents/incident.h"
#include "notifiers/dispatcher.h"
#include "tests/support.h"

namespace podmedic::test {

inline incidents::Incident incident(const std::string& name = "cart") {
  incidents::Incident i;
  i.id = "id-" + name;
  i.fingerprint = "c/shop/Deployment/" + name + "/app/OOMKilled";
  i.cluster = "c";
  i.ns = "shop";
  i.reason = "OOMKilled";
  i.workload = {"Deployment", name};
  i.container = "app";
  i.all_pods = {name + "-abc"};
  i.first_seen = i.last_seen = 1790000000;
  return i;
}

// An OOMKilled incident as a pager sees it: a named cluster, restarts, exit code, severity and a
// runbook; `evidence` as its key lines.
inline incidents::Incident paged_incident(std::string_view evidence) {
  auto i = incident();
  i.cluster = "prod-eu-1";
  i.restarts = 4;
  i.exit_code = 137;
  i.severity = "critical";
  i.runbook_url = "https://runbooks.example/oom?ns=shop&w=cart";
  i.evidence = Redacted::from_state(std::string(evidence));
  return i;
}

// The facts line the notifier tests render with.
inline std::string oom_facts(const incidents::Incident&) {
  return "Container app was OOMKilled (exit 137): memory limit 256Mi.";
}

// A dispatcher's notifier list of one.
inline std::vector<std::unique_ptr<notifiers::Notifier>> one(
    std::unique_ptr<notifiers::Notifier> n) {
  std::vector<std::unique_ptr<notifiers::Notifier>> v;
  v.push_back(std::move(n));
  return v;
}

struct DispatcherEnv {
  std::filesystem::path dir;
  prometheus::Registry registry;
  std::chrono::milliseconds cap;
  DispatcherEnv(const std::string& tag, std::chrono::milliseconds backoff_cap) : cap(backoff_cap) {
    std::string tmpl = "/tmp/podmedic-" + tag + "-XXXXXX";
    dir = mkdtemp(tmpl.data());
  }
  ~DispatcherEnv() { std::filesystem::remove_all(dir); }
  notifiers::DispatcherSettings settings() const {
    notifiers::DispatcherSettings s;
    s.state_dir = dir.string();
    s.backoff.initial = std::chrono::milliseconds(20);
    s.backoff.cap = cap;
    s.breaker_threshold = 100;
    return s;
  }
  // podmedic_notifications_total{notifier,outcome}, 0 when absent.
  double counter(const std::string& notifier, const std::string& outcome) {
    double v = counter_value(registry, "podmedic_notifications_total",
                             {{"notifier", notifier}, {"outcome", outcome}});
    return v < 0 ? 0 : v;
  }
};

}  // namespace podmedic::test
