#include "app/pipeline.h"

#include "core/log.h"

namespace podmedic::app {

Pipeline::Pipeline(boost::asio::io_context& ioc, const Config& config,
                   k8s::ClusterConnection connection)
    : ioc_(ioc),
      registry_(std::make_shared<prometheus::Registry>()),
      metrics_(*registry_),
      pods_(interner_, &metrics_),
      events_(interner_, config.watch.event_limits, &metrics_),
      client_(std::make_unique<k8s::KubeClient>(ioc.get_executor(), std::move(connection))),
      watcher_(
          std::make_unique<watcher::Watcher>(*client_, config.watch, pods_, events_, metrics_)),
      detector_(interner_, config.detect.rules) {
  pods_.set_listener(
      [this](k8s::WatchType type, const k8s::PodView* before, const k8s::PodView* after) {
        if (type == k8s::WatchType::kDeleted || !after) return;
        for (const auto& f : detector_.evaluate(before, *after)) {
          Detection d{*after, f, events_.for_pod(interner_.view(after->ns), after->name)};
          if (on_detection_) on_detection_(d);
        }
      });
}

void Pipeline::start() {
  watcher_->start(ioc_.get_executor());
}

std::string describe(const Detection& d, const Interner& in) {
  const auto& p = d.pod;
  const auto& f = d.finding;
  std::string s = "[" + std::string(in.view(p.ns)) + "] " + f.reason + " " + p.name + "/" +
                  std::string(in.view(f.container));
  if (p.owner_kind != 0)
    s += " (" + std::string(in.view(p.owner_kind)) + " " + std::string(in.view(p.owner_name)) + ")";
  if (f.exit_code != 0) s += " exit " + std::to_string(f.exit_code);
  s += ", " + std::to_string(f.restarts) + " restarts";
  for (const auto& c : p.containers) {
    if (c.name != f.container || c.init != f.init) continue;
    if (f.reason == "OOMKilled" && c.mem_limit != 0)
      s += ", memory limit " + std::string(in.view(c.mem_limit));
    if (f.reason == "ImagePullBackOff") s += ", image " + std::string(in.view(c.image));
  }
  if (!d.events.empty()) {
    const auto* e = d.events.front();
    s += " | " + std::string(in.view(e->reason)) + ": " + e->message.substr(0, 160);
  }
  return s;
}

}  // namespace podmedic::app
