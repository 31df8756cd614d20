#pragma once
// The real Alertmanager (Debian's prometheus-alertmanager, which scripts/setup.sh installs) as a
// child process for the tests: on 127.0.0.1 with a free port, gossip off, a scratch storage path,
// and a route with short group_wait / group_interval to a webhook receiver the test runs. A test
// fails loudly (REQUIRE) when the binary is missing: CI always installs it.
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <netinet/in.h>
#include <nlohmann/json.hpp>

#include "core/http.h"
#include "tests/process.h"
#include "tests/support.h"

namespace podmedic::test {

inline constexpr const char* kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";

// A TCP port free on 127.0.0.1 right now (the kernel's pick for port 0).
inline unsigned short free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

class RealAlertmanager {
 public:
  // `receiver_url`: where the route's webhook receiver posts (send_resolved on).
  explicit RealAlertmanager(const std::string& receiver_url) : port_(free_port()) {
    REQUIRE(std::filesystem::exists(kAlertmanagerBinary));  // scripts/setup.sh installs it
    dir_.write("alertmanager.yml",
               "route:\n"
               "  receiver: hook\n"
               "  group_by: [podmedic_incident, alertname, namespace, pod]\n"
               "  group_wait: 1s\n"
               "  group_interval: 1s\n"
               "  repeat_interval: 1h\n"
               "receivers:\n"
               "  - name: hook\n"
               "    webhook_configs:\n"
               "      - url: " +
                   receiver_url +
                   "\n"
                   "        send_resolved: true\n");
    start();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void start() {
    child_ = std::make_unique<Child>(
        std::vector<std::string>{kAlertmanagerBinary,
                                 "--config.file=" + (dir_.path / "alertmanager.yml").string(),
                                 "--storage.path=" + (dir_.path / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--cluster.listen-address=", "--log.level=warn"},
        dir_.path.string());
    REQUIRE(eventually([&] { return get("/-/ready").status == 200; }, std::chrono::seconds(15)));
  }
  void stop() {
    if (child_) child_->terminate();
    child_.reset();
  }
  http::PostResult get(const std::string& path) const {
    return http::request("GET", url() + path, {}, "", std::chrono::seconds(2), 1u << 20);
  }
  http::PostResult post(const std::string& path, const nlohmann::json& body) const {
    return http::request("POST", url() + path, {"Content-Type: application/json"}, body.dump(),
                         std::chrono::seconds(2), 1u << 20);
  }
  // GET /api/v2/alerts (active, silenced and inhibited), [] when unreadable.
  nlohmann::json alerts() const {
    auto r = get("/api/v2/alerts");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_array() ? j : nlohmann::json::array();
  }
  // The alert whose label `name` is `value`, or null.
  nlohmann::json alert(const std::string& name, const std::string& value) const {
    for (const auto& a : alerts()) {
      if (a["labels"].contains(name) && a["labels"][name] == value) return a;
    }
    return nullptr;
  }
  // A silence for label `name` = `value`, an hour long; its id.
  std::string silence(const std::string& name, const std::string& value) const {
    auto r = post("/api/v2/silences",
                  {{"matchers", {{{"name", name}, {"value", value}, {"isRegex", false}}}},
                   {"startsAt", "2000-01-01T00:00:00Z"},
                   {"endsAt", "2100-01-01T00:00:00Z"},
                   {"createdBy", "podmedic tests"},
                   {"comment", "maintenance"}});
    REQUIRE(r.status == 200);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    REQUIRE(j.contains("silenceID"));
    return j["silenceID"];
  }
  // One series of its /metrics (name{labels} exactly as exposed), -1 when absent.
  double metric(const std::string& series) const {
    auto text = get("/metrics").body;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(series + " ", 0) == 0)
        return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
    return -1;
  }

 private:
  TempDir dir_;
  unsigned short port_;
  std::unique_ptr<Child> child_;
};

}  // namespace podmedic::test
