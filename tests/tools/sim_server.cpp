// sim_server: the simulated API server on its own, driven through stdin, for trying podmedic
// by hand or from a script in any language (`podmedic run` against it, kubectl against it).
//
//   sim_server [--tls] [--token T] [--demo] [--demo-step MS] [--kubeconfig FILE]
//
// Prints one JSON line when listening: {"url": …, "kubeconfig": FILE} (the kubeconfig carries
// the token and, with --tls, the CA). Then reads one JSON command per line and answers each with
// one line, "ok" or "error: …":
//   {"op":"upsert","resource":"pods","object":{…}}   (resource: a plural; apps/v1 ones too)
//   {"op":"remove","resource":"pods","namespace":"shop","name":"cart-1"}
//   {"op":"logs","namespace":…,"pod":…,"container":…,"current":"…","previous":"…"}
//   {"op":"fault","path":"/api/v1/pods","status":503,"count":2,"retryAfter":1,"only":"watch"}
//   {"op":"drop"} {"op":"expire"} {"op":"end"} {"op":"malformed"} {"op":"raw","line":"…"}
//   {"op":"token","token":"…"} {"op":"step"} (with --demo: the demo script's next step)
// --demo populates the demo cluster; --demo-step MS also runs its script every MS ms.
// A test tool: not installed, not part of podmedic.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/server.h"

namespace net = boost::asio;
using json = nlohmann::json;
using namespace podmedic::sim;

namespace {

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int num(const json& j, const char* key, int fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

// Runs one command on the io_context's thread; returns "ok" or "error: …".
std::string apply(ApiServer& server, DemoCluster* demo, const json& cmd) {
  const std::string op = str(cmd, "op");
  if (op == "upsert" || op == "remove") {
    const std::string plural = str(cmd, "resource");
    auto res = res_from_plural("v1", plural);
    if (!res) res = res_from_plural("apps/v1", plural);
    if (!res) return "error: unknown resource \"" + plural + "\"";
    if (op == "remove")
      return server.store().remove(*res, str(cmd, "namespace"), str(cmd, "name"))
                 ? "ok"
                 : "error: no such object";
    auto obj = cmd.find("object");
    if (obj == cmd.end() || !obj->is_object()) return "error: \"object\" must be an object";
    server.store().upsert(*res, *obj);
    return "ok";
  }
  if (op == "logs") {
    server.set_logs(str(cmd, "namespace"), str(cmd, "pod"), str(cmd, "container"),
                    str(cmd, "current"), str(cmd, "previous"));
    return "ok";
  }
  if (op == "fault") {
    Fault f;
    f.path_prefix = str(cmd, "path");
    f.status = num(cmd, "status", 500);
    f.count = num(cmd, "count", 1);
    f.retry_after = num(cmd, "retryAfter", -1);
    const std::string only = str(cmd, "only");
    f.only = only == "watch" ? Fault::kWatch : only == "list" ? Fault::kList : Fault::kAny;
    server.inject(f);
    return "ok";
  }
  if (op == "drop") return server.drop_connections(), "ok";
  if (op == "expire") return server.expire_watches(), "ok";
  if (op == "end") return server.end_watches(), "ok";
  if (op == "malformed") return server.inject_malformed_line(), "ok";
  if (op == "raw") return server.inject_raw_line(str(cmd, "line")), "ok";
  if (op == "token") return server.set_token(str(cmd, "token")), "ok";
  if (op == "step") {
    if (!demo) return "error: start with --demo";
    demo->step();
    return "ok";
  }
  return "error: unknown op \"" + op + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  bool with_demo = false;
  int demo_step_ms = 0;
  std::string kubeconfig_path = "/tmp/sim-server-" + std::to_string(::getpid()) + ".kubeconfig";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--tls") {
      options.tls = true;
    } else if (a == "--token") {
      options.token = next();
    } else if (a == "--demo") {
      with_demo = true;
    } else if (a == "--demo-step") {
      with_demo = true;
      demo_step_ms = std::atoi(next().c_str());
    } else if (a == "--kubeconfig") {
      kubeconfig_path = next();
    } else {
      std::cerr << "usage: sim_server [--tls] [--token T] [--demo] [--demo-step MS] "
                   "[--kubeconfig FILE]\n";
      return 2;
    }
  }

  net::io_context ioc;
  ApiServer server(ioc, options);
  server.listen();
  std::unique_ptr<DemoCluster> demo;
  if (with_demo) {
    demo = std::make_unique<DemoCluster>(server, [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    });
    demo->populate();
    if (demo_step_ms > 0)
      net::co_spawn(ioc, demo->run(std::chrono::milliseconds(demo_step_ms)), net::detached);
  }
  {
    std::ofstream out(kubeconfig_path);
    out << server.kubeconfig(options.token);
  }
  std::cout << json{{"url", server.url()}, {"kubeconfig", kubeconfig_path}}.dump() << std::endl;

  auto guard = net::make_work_guard(ioc);
  std::thread io([&] { ioc.run(); });
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    auto cmd = json::parse(line, nullptr, false);
    std::string answer;
    if (cmd.is_discarded() || !cmd.is_object()) {
      answer = "error: not a JSON object";
    } else {
      std::promise<std::string> done;
      net::post(ioc, [&] { done.set_value(apply(server, demo.get(), cmd)); });
      answer = done.get_future().get();
    }
    std::cout << answer << std::endl;
  }
  // stdin closed: stop.
  net::post(ioc, [&] {
    server.stop();
    guard.reset();
    ioc.stop();
  });
  io.join();
  std::remove(kubeconfig_path.c_str());
  return 0;
}
