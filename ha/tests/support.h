#pragma once
// The ha tests' world: the simulated API server on 127.0.0.1:0 (it serves Leases and ConfigMaps
// with the apiserver's create/update conflicts) and a real client on one io_context.
#include <memory>

#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "core/peer_errors.h"
#include "k8s/client.h"
#include "sim/server.h"
#include "tests/support.h"

namespace podmedic::ha::test {

namespace net = boost::asio;
using podmedic::test::run_until;

struct SimCluster {
  net::io_context ioc;  // first: destroyed last
  sim::ApiServer server{ioc};
  prometheus::Registry registry;
  PeerErrors peer_errors{registry};
  std::unique_ptr<k8s::KubeClient> client;

  SimCluster() {
    server.listen();
    k8s::ClusterConnection c;
    REQUIRE(k8s::parse_server_url(server.url(), c).ok());
    c.tokens = std::make_shared<k8s::StaticTokenSource>("");
    client = std::make_unique<k8s::KubeClient>(ioc.get_executor(), c, &peer_errors);
  }

  // Runs `op` on the io_context until it completes (a deadline poll).
  void complete(net::awaitable<void> op) {
    bool done = false;
    net::co_spawn(ioc, std::move(op), [&done](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      done = true;
    });
    REQUIRE(run_until(ioc, [&] { return done; }));
  }
};

}  // namespace podmedic::ha::test
