#pragma once
// Process-level test helpers: the simulator on its own thread (as a separate API server would
// be), and a child process whose output is collected (kubectl, the podmedic binary).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "sim/scenario.h"
#include "sim/server.h"

namespace podmedic::test {

namespace net = boost::asio;

// The simulator on its own thread, as a separate server process would be.
struct BackgroundSim {
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  sim::ApiServer server;
  std::int64_t now = 1'790'000'000;
  sim::DemoCluster cluster{server, [this] { return now; }};
  std::thread thread;
  explicit BackgroundSim(sim::ServerOptions o = options()) : server(ioc, o) {
    server.listen();
    cluster.populate();
    thread = std::thread([this] { ioc.run(); });
  }
  static sim::ServerOptions options() {
    sim::ServerOptions o;
    o.tls = true;
    o.token = "kubectl-test-token";
    return o;
  }
  template <class F>
  auto call(F f) -> decltype(f()) {
    std::promise<decltype(f())> p;
    net::post(ioc, [&] {
      if constexpr (std::is_void_v<decltype(f())>) {
        f();
        p.set_value();
      } else {
        p.set_value(f());
      }
    });
    return p.get_future().get();
  }
  ~BackgroundSim() {
    work.reset();
    ioc.stop();
    thread.join();
  }
};

// A child process with its stdout+stderr collected on a thread.
struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::mutex mu;
  std::string out;
  std::thread reader;
  explicit Child(const std::vector<std::string>& argv, const std::string& home) {
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(p[1], 1);
      dup2(p[1], 2);
      close(p[0]);
      setenv("HOME", home.c_str(), 1);
      std::vector<char*> args;
      for (auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(p[1]);
    fd = p[0];
    reader = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) {
        std::lock_guard l(mu);
        out.append(buf, static_cast<std::size_t>(n));
      }
    });
  }
  std::string output() {
    std::lock_guard l(mu);
    return out;
  }
  int wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    reader.join();
    close(fd);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  bool wait_for(const std::string& needle, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a child process
    }
    return false;
  }
  // Whether the process is still running (not exited, not killed by a signal).
  bool running() {
    if (pid <= 0) return false;
    int status = 0;
    return waitpid(pid, &status, WNOHANG) == 0;
  }
  // SIGTERM, then the exit code (or -1 if it did not exit normally).
  int terminate() {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    return wait();
  }
  ~Child() {
    if (pid > 0) terminate();
  }
};

}  // namespace podmedic::test
