#pragma once
// The composition root: the only place that names concrete classes. Wires the Kubernetes client,
// the stores, the watcher and the detector on one io_context, and reports detections through
// a callback (console/logs now; incidents and notifiers hang off the same point).
#include <functional>
#include <memory>

#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>

#include "app/config.h"
#include "k8s/client.h"
#include "rules/detect.h"
#include "watcher/watcher.h"

namespace podmedic::app {

struct Detection {
  const k8s::PodView& pod;
  const rules::Finding& finding;
  std::vector<const k8s::EventView*> events;  // the pod's recent warnings, newest first
};

class Pipeline {
 public:
  Pipeline(boost::asio::io_context& ioc, const Config& config, k8s::ClusterConnection connection);
  void on_detection(std::function<void(const Detection&)> f) { on_detection_ = std::move(f); }
  void start();
  bool synced() const { return watcher_->synced(); }

  Interner& interner() { return interner_; }
  watcher::PodStore& pods() { return pods_; }
  watcher::EventStore& events() { return events_; }
  k8s::KubeClient& client() { return *client_; }
  prometheus::Registry& registry() { return *registry_; }

 private:
  boost::asio::io_context& ioc_;
  std::shared_ptr<prometheus::Registry> registry_;
  watcher::WatchMetrics metrics_;
  Interner interner_;
  watcher::PodStore pods_;
  watcher::EventStore events_;
  std::unique_ptr<k8s::KubeClient> client_;
  std::unique_ptr<watcher::Watcher> watcher_;
  rules::Detector detector_;
  std::function<void(const Detection&)> on_detection_;
};

// One human line for a detection: "[shop] OOMKilled cart-7d9f-x2x9q/app exit 137 ...".
std::string describe(const Detection& d, const Interner& in);

}  // namespace podmedic::app
