#pragma once
// A simulated cluster and a real client in one io_context: the sim's API server on 127.0.0.1:0,
// the Beast client, and reflectors feeding PodStore/EventStore. Tests mutate the sim's store,
// inject faults, and drive the io_context until the client's view converges.
#include <map>
#include <memory>
#include <string>

#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "k8s/client.h"
#include "sim/objects.h"
#include "sim/server.h"
#include "tests/support.h"
#include "watcher/event_store.h"
#include "watcher/pod_store.h"
#include "watcher/reflector.h"

namespace podmedic::test {

using namespace std::chrono_literals;
namespace net = boost::asio;

inline watcher::ReflectorOptions fast_options() {
  watcher::ReflectorOptions o;
  o.backoff.initial = 10ms;
  o.backoff.cap = 100ms;
  o.page_size = 4;
  return o;
}

struct Harness {
  net::io_context ioc;  // first: destroyed last, after everything its coroutines reference
  sim::ApiServer server;
  prometheus::Registry registry;
  watcher::WatchMetrics metrics{registry};
  Interner interner;
  watcher::PodStore pods{interner, &metrics};
  watcher::EventStore events{interner, {}, &metrics};
  std::unique_ptr<k8s::KubeClient> client;
  std::unique_ptr<watcher::Reflector> pod_reflector, event_reflector;
  std::int64_t now = 1'790'000'000;
  std::size_t expected_watches = 0;  // reflectors started: each holds one watch when idle

  explicit Harness(sim::ServerOptions so = {}, std::shared_ptr<k8s::TokenSource> tokens = nullptr)
      : server(ioc, so) {
    server.listen();
    k8s::ClusterConnection c;
    REQUIRE(k8s::parse_server_url(server.url(), c).ok());
    c.ca_pem = server.ca_pem();
    c.tokens = tokens ? tokens : std::make_shared<k8s::StaticTokenSource>(so.token);
    client = std::make_unique<k8s::KubeClient>(ioc.get_executor(), c);
  }

  void start(watcher::ReflectorOptions po = fast_options(), bool with_events = true) {
    pod_reflector =
        std::make_unique<watcher::Reflector>(*client, k8s::Resource::kPods, po, pods, metrics);
    spawn(*pod_reflector);
    expected_watches = with_events ? 2 : 1;
    if (with_events) {
      auto eo = po;
      eo.field_selector = "type=Warning,involvedObject.kind=Pod";
      eo.label_selector.clear();
      event_reflector = std::make_unique<watcher::Reflector>(*client, k8s::Resource::kEvents, eo,
                                                             events, metrics);
      spawn(*event_reflector);
    }
  }

  void spawn(watcher::Reflector& r) {
    net::co_spawn(ioc, r.run(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }

  nlohmann::json add_pod(const std::string& ns, const std::string& name,
                         std::map<std::string, std::string> labels = {}) {
    sim::PodTemplate t;
    t.ns = ns;
    t.name = name;
    t.deployment = "";
    t.labels = std::move(labels);
    auto p = sim::make_pod(t, now);
    // As in a real cluster, a pod's namespace exists (GET /api/v1/namespaces/<ns> answers 200).
    if (!server.store().get_ptr(sim::Res::kNamespaces, "", ns))
      server.store().upsert(sim::Res::kNamespaces, sim::make_namespace(ns, now));
    server.store().upsert(sim::Res::kPods, p);
    return *server.store().get(sim::Res::kPods, ns, name);
  }

  void crash(const std::string& ns, const std::string& name, int code = 1,
             const std::string& reason = "Error") {
    auto p = *server.store().get(sim::Res::kPods, ns, name);
    sim::set_crashloop(p, "app", code, reason, ++now);
    server.store().upsert(sim::Res::kPods, p);
  }

  // ns/name → resourceVersion, as the server has it (optionally filtered).
  std::map<std::string, std::string> truth(const std::string& label_selector = "") {
    std::map<std::string, std::string> out;
    sim::Selector sel;
    sim::parse_label_selector(label_selector, sel);
    for (auto& o : server.store().all(sim::Res::kPods)) {
      if (sel.matches(o->labels)) out[o->ns + "/" + o->name] = std::to_string(o->rv);
    }
    return out;
  }

  std::map<std::string, std::string> mine() {
    std::map<std::string, std::string> out;
    pods.for_each([&](const k8s::PodView& p) {
      out[std::string(interner.view(p.ns)) + "/" + p.name] = p.resource_version;
    });
    return out;
  }

  bool converged(const std::string& selector = "") { return truth(selector) == mine(); }
  bool synced() {
    return pod_reflector->synced() && (!event_reflector || event_reflector->synced());
  }
  // Converged, and every reflector's watch is open on the server (so injected faults land).
  bool run_until_converged(std::chrono::milliseconds t = 10s) {
    return run_until(
        ioc, [&] { return synced() && converged() && server.open_watches() >= expected_watches; },
        t);
  }
  double counter(const std::string& family, const std::map<std::string, std::string>& labels) {
    for (auto& f : registry.Collect()) {
      if (f.name != family) continue;
      for (auto& m : f.metric) {
        std::map<std::string, std::string> l;
        for (auto& lp : m.label) l[lp.name] = lp.value;
        bool ok = true;
        for (auto& [k, v] : labels) ok = ok && l[k] == v;
        if (ok) return m.counter.value;
      }
    }
    return 0;
  }
};

}  // namespace podmedic::test
