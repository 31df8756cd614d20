// POST /api/alertmanager: the webhook payload parser against hostile input (wrong types, nulls,
// huge numbers, invalid UTF-8, too many alerts and labels), what is taken and what ignored, the
// scope (403), token and media type, peer errors counted, 202 at once, and the 1 MiB body limit
// of this route alone (over the socket).
#include <catch2/catch.hpp>

#include <thread>

#include <boost/asio/co_spawn.hpp>

#include "core/http.h"
#include "core/task_group.h"
#include "server/api.h"

using namespace podmedic;
using namespace podmedic::server;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

json alert(const std::string& fp, json labels, const std::string& status = "firing") {
  return {{"status", status},
          {"labels", std::move(labels)},
          {"annotations", json::object()},
          {"startsAt", "2026-12-02T08:00:00.123Z"},
          {"endsAt", "0001-01-01T00:00:00Z"},
          {"generatorURL", "http://prometheus/graph"},
          {"fingerprint", fp}};
}

json payload(json alerts) {
  return {{"version", "4"},
          {"groupKey", "{}:{alertname=\"KubePodCrashLooping\"}"},
          {"truncatedAlerts", 0},
          {"status", "firing"},
          {"receiver", "podmedic"},
          {"groupLabels", json::object()},
          {"commonLabels", json::object()},
          {"commonAnnotations", json::object()},
          {"externalURL", "http://alertmanager:9093"},
          {"alerts", std::move(alerts)}};
}

json crashlooping(const std::string& fp, const std::string& ns, const std::string& pod) {
  return alert(fp, {{"alertname", "KubePodCrashLooping"},
                    {"namespace", ns},
                    {"pod", pod},
                    {"severity", "warning"}});
}

struct Route {
  std::vector<std::vector<AmAlert>> handed;
  prometheus::Registry registry;
  PeerErrors peer_errors{registry};
  std::string token;
  Handler handler() {
    ApiSources s;
    s.namespace_allowed = [](const std::string& ns) { return ns != "kube-system"; };
    s.alertmanager = [this](std::vector<AmAlert> a) { handed.push_back(std::move(a)); };
    s.peer_errors = &peer_errors;
    return make_api(std::move(s), token);
  }
  Response call(const std::string& body, const std::string& content_type = "application/json",
                const std::string& auth = "") {
    boost::asio::io_context ioc;
    std::optional<Response> out;
    auto h = handler();
    boost::asio::co_spawn(ioc, h(Request{"POST", "/api/alertmanager", auth, body, content_type}),
                          [&](std::exception_ptr, Response v) { out = std::move(v); });
    ioc.run();
    return *out;
  }
};

}  // namespace

TEST_CASE("alertmanager payload: a version 4 payload is read; each bad alert is skipped") {
  json good = crashlooping("a1b2c3", "shop", "cart-7d9f-abcde");
  json alerts = json::array({good, nullptr, 42, alert("", {{"pod", "x"}}), alert("f2", "labels"),
                             json{{"status", "firing"}, {"fingerprint", "f3"}},
                             alert("f4", {{"pod", "x"}}, "firing")});
  alerts[6]["startsAt"] = "yesterday";
  auto parsed = parse_alertmanager_payload(payload(alerts).dump());
  REQUIRE(std::holds_alternative<AmPayload>(parsed));
  const auto& p = std::get<AmPayload>(parsed);
  REQUIRE(p.alerts.size() == 1);
  CHECK(p.skipped == 6);
  CHECK(p.first_skip.find("alerts[1]") != std::string::npos);
  const auto& a = p.alerts[0];
  CHECK(a.fingerprint == "a1b2c3");
  CHECK(a.status == "firing");
  CHECK(a.starts_at == "2026-12-02T08:00:00.123Z");
  CHECK(a.starts_unix > 1'700'000'000);
  CHECK(a.label("pod") == "cart-7d9f-abcde");
  CHECK(a.label("absent").empty());
}

TEST_CASE("alertmanager payload: hostile top levels are errors with the fault to count") {
  auto fault = [](const std::string& body) -> std::optional<PeerFault> {
    auto r = parse_alertmanager_payload(body);
    if (auto* e = std::get_if<AmPayloadError>(&r)) return e->fault;
    return std::nullopt;
  };
  CHECK(fault("") == PeerFault::kMalformed);
  CHECK(fault("{\"version\":\"4\",\"alerts\":[") == PeerFault::kMalformed);
  CHECK(fault("{\"version\":\"4\xff\",\"alerts\":[]}") == PeerFault::kMalformed);
  CHECK(fault("null") == PeerFault::kWrongType);
  CHECK(fault("[]") == PeerFault::kWrongType);
  CHECK(fault(R"({"version":4,"alerts":[]})") == PeerFault::kWrongType);
  CHECK(fault(R"({"version":"3","alerts":[]})") == PeerFault::kWrongType);
  CHECK(fault(R"({"version":"4","alerts":null})") == PeerFault::kWrongType);
  CHECK(fault(R"({"version":"4","alerts":{}})") == PeerFault::kWrongType);
  CHECK(fault(R"({"version":"4"})") == PeerFault::kWrongType);
  CHECK_FALSE(
      fault(R"({"version":"4","alerts":[],"truncatedAlerts":123456789012345678901234567890})"));
  CHECK_FALSE(fault(R"({"version":"4","alerts":[]})"));
}

TEST_CASE("alertmanager payload: bounds on alerts, labels and values; odd label values") {
  // Too many alerts: the first kMaxAlerts are read.
  json many = json::array();
  for (std::size_t i = 0; i < kMaxAlerts + 5; ++i) many.push_back(crashlooping("f", "shop", "p"));
  auto parsed = parse_alertmanager_payload(payload(many).dump());
  REQUIRE(std::holds_alternative<AmPayload>(parsed));
  CHECK(std::get<AmPayload>(parsed).alerts.size() == kMaxAlerts);
  CHECK(std::get<AmPayload>(parsed).skipped == 5);
  // Too many labels, values too long, values not strings.
  json labels = {{"namespace", "shop"}, {"pod", "p"}, {"n", 1}, {"b", nullptr}, {"o", {{"x", 1}}}};
  for (int i = 0; i < 200; ++i)
    labels["l" + std::to_string(i)] = std::string(kMaxLabelValue + 100, 'v');
  parsed = parse_alertmanager_payload(payload({alert("f", labels)}).dump());
  REQUIRE(std::holds_alternative<AmPayload>(parsed));
  const auto& p = std::get<AmPayload>(parsed);
  REQUIRE(p.alerts.size() == 1);
  for (const auto& a : p.alerts) {
    CHECK(a.labels.size() <= kMaxLabels + 4);
    CHECK(a.label("namespace") == "shop");  // kept whatever else there is
    CHECK(a.label("pod") == "p");
    for (const auto& [k, v] : a.labels) {
      CHECK(v.size() <= kMaxLabelValue);
      CHECK(k != "n");  // non-string values are left out
      CHECK(k != "b");
      CHECK(k != "o");
    }
  }
  // An invalid UTF-8 label value: the JSON parser refuses the whole body.
  std::string bad = payload(json::array({crashlooping("f", "shop", "p")})).dump();
  bad.replace(bad.find("KubePodCrashLooping"), 4, "\xc3\x28\xff\xfe");
  CHECK(std::holds_alternative<AmPayloadError>(parse_alertmanager_payload(bad)));
}

TEST_CASE(
    "POST /api/alertmanager: firing pod alerts in scope are handed over, 202 at once; "
    "ours, resolved and pod-less ones ignored") {
  Route route;
  json alerts =
      json::array({crashlooping("a1", "shop", "cart-1"), crashlooping("a2", "shop", "cart-2"),
                   alert("a3", {{"alertname", "PodCrashLooping"},
                                {"namespace", "shop"},
                                {"pod", "cart-1"},
                                {"podmedic_incident", "abc"}}),
                   alert("a4", {{"namespace", "shop"}, {"pod", "cart-1"}}, "resolved"),
                   alert("a5", {{"alertname", "NodeDown"}, {"node", "n1"}}),
                   alert("a6", {{"namespace", "Bad Name"}, {"pod", "x"}}),
                   crashlooping("a7", "kube-system", "coredns-1")});
  auto r = route.call(payload(alerts).dump(), "application/json; charset=utf-8");
  CHECK(r.status == 202);
  CHECK(json::parse(r.body) == json{{"accepted", 2}, {"ignored", 5}});
  REQUIRE(route.handed.size() == 1);
  REQUIRE(route.handed[0].size() == 2);
  CHECK(route.handed[0][0].fingerprint == "a1");
  CHECK(route.handed[0][1].label("pod") == "cart-2");

  SECTION("only alerts outside the watch scope: 403, nothing handed over") {
    auto out = route.call(payload({crashlooping("k", "kube-system", "coredns-1")}).dump());
    CHECK(out.status == 403);
    CHECK(route.handed.size() == 1);
  }
  SECTION("nothing to diagnose: 202, nothing handed over") {
    auto out = route.call(payload(json::array()).dump());
    CHECK(out.status == 202);
    CHECK(route.handed.size() == 1);
  }
  SECTION("bad bodies are 400 and counted under peer alertmanager") {
    CHECK(route.call("{").status == 400);
    CHECK(route.call(R"({"version":"4","alerts":"x"})").status == 400);
    CHECK(route.peer_errors.value(Peer::kAlertmanager, PeerFault::kMalformed) == 1);
    CHECK(route.peer_errors.value(Peer::kAlertmanager, PeerFault::kWrongType) == 1);
    CHECK(route.call(payload({nullptr}).dump()).status == 202);  // a skipped alert: counted too
    CHECK(route.peer_errors.value(Peer::kAlertmanager, PeerFault::kWrongType) == 2);
  }
  SECTION("media type and token") {
    CHECK(route.call(payload(alerts).dump(), "text/plain").status == 415);
    CHECK(route.call(payload(alerts).dump(), "").status == 415);
    route.token = "s3cret";
    CHECK(route.call(payload(alerts).dump()).status == 401);
    CHECK(route.call(payload(alerts).dump(), "application/json", "Bearer s3cret").status == 202);
  }
}

TEST_CASE("over the socket: /api/alertmanager takes bodies up to 1 MiB, other routes 64 KiB") {
  boost::asio::io_context ioc;
  TaskGroup tasks(ioc);
  std::size_t handed = 0;
  ApiSources s;
  s.alertmanager = [&](std::vector<AmAlert> a) { handed += a.size(); };
  ServerSettings settings{"127.0.0.1:0", 64 * 1024, 5s};
  settings.route_body_limits = {{kAlertmanagerRoute, kAlertmanagerBodyLimit}};
  HttpServer server(ioc, settings, make_api(std::move(s), ""));
  auto port = server.start(tasks);
  REQUIRE(port.ok());
  std::string base = "http://127.0.0.1:" + std::to_string(port.value());
  // ~900 KiB: 600 alerts with a long label each (the parser reads up to kMaxAlerts).
  json alerts = json::array();
  for (int i = 0; i < 600; ++i) {
    json a = crashlooping("f" + std::to_string(i), "shop", "cart-" + std::to_string(i));
    a["annotations"]["description"] = std::string(1300, 'd');
    alerts.push_back(a);
  }
  std::string large = payload(alerts).dump();
  REQUIRE(large.size() > 800 * 1024);
  REQUIRE(large.size() < kAlertmanagerBodyLimit);
  http::PostResult ok, too_large, ask;
  std::atomic<bool> done{false};
  std::thread client([&] {
    std::vector<std::string> h = {"Content-Type: application/json"};
    ok = http::request("POST", base + "/api/alertmanager", h, large, 5s);
    too_large = http::request("POST", base + "/api/alertmanager", h,
                              std::string(kAlertmanagerBodyLimit + 1, ' '), 5s);
    ask = http::request("POST", base + "/ask", h, std::string(70 * 1024, ' '), 5s);
    done = true;
  });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done && std::chrono::steady_clock::now() < deadline) ioc.run_for(10ms);
  client.join();
  CHECK(ok.status == 202);
  CHECK(handed == 600);
  CHECK(too_large.status == 413);
  CHECK(json::parse(too_large.body)["error"].get<std::string>().find("1024 KiB") !=
        std::string::npos);
  CHECK(ask.status == 413);
  server.stop();
  tasks.stop();
}
