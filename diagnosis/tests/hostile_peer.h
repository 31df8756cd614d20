#pragma once
// HostilePeer: a loopback TCP server on 127.0.0.1:0 that misbehaves below HTTP, where HttpMock
// (which always answers whole, well-formed responses) cannot: it drips a response one piece at a
// time forever, or resets the connection after reading the request. One connection at a time on
// its own thread; the destructor stops it. Shared by the diagnosis and notifiers hostile-peer
// tests (notifiers come after diagnosis in the dependency order). Thread-safe accessors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace podmedic::test {

class HostilePeer {
 public:
  enum class Mode {
    kDrip,   // sends `head`, then `piece` every `interval` until the client hangs up
    kReset,  // reads the request, then closes with SO_LINGER 0 (the client sees a reset)
  };
  HostilePeer(Mode mode, std::string head = "", std::string piece = "x",
              std::chrono::milliseconds interval = std::chrono::milliseconds(20))
      : mode_(mode), head_(std::move(head)), piece_(std::move(piece)), interval_(interval) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~HostilePeer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }

 private:
  // Waits up to 50 ms for `fd` to become readable; false on timeout or stop.
  bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 50) > 0;
  }
  void run() {
    while (!stop_) {
      if (!readable(listen_fd_)) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      serve(fd);
    }
  }
  void serve(int fd) {
    // Read the request head (enough for our small requests), giving up after a second.
    std::string req;
    char buf[4096];
    for (int i = 0; i < 20 && req.find("\r\n\r\n") == std::string::npos && !stop_; ++i) {
      if (!readable(fd)) continue;
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<std::size_t>(n));
    }
    if (mode_ == Mode::kReset) {
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::close(fd);
      return;
    }
    bool ok = ::send(fd, head_.data(), head_.size(), MSG_NOSIGNAL) >= 0;
    auto next = std::chrono::steady_clock::now();
    while (ok && !stop_) {
      next += interval_;
      std::this_thread::sleep_until(next);  // the drip itself: this peer is slow on purpose
      ok = ::send(fd, piece_.data(), piece_.size(), MSG_NOSIGNAL) >= 0;
      // The client hung up: recv sees EOF (or a reset) as soon as it closes.
      pollfd p{fd, POLLIN, 0};
      if (ok && ::poll(&p, 1, 0) > 0 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) ok = false;
    }
    ::close(fd);
  }

  Mode mode_;
  std::string head_, piece_;
  std::chrono::milliseconds interval_;
  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace podmedic::test
