// The console/log notifier: the demo's console lines and `podmedic run`'s log lines byte for byte,
// the facts line of each event type, and every event handed on to the next sink.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/parse.h"
#include "notifiers/console.h"
#include "notifiers/tests/support.h"

using namespace podmedic;
using incidents::EventType;
using notifiers::ConsoleNotifier;

namespace {

// Stores with nothing in them: the facts are the incident's own.
struct Env {
  Interner interner;
  watcher::PodStore pods{interner};
  watcher::EventStore events{interner};
  incidents::Facts facts{pods, events, interner,
                         [](std::string_view t) { return Redacted::from_state(std::string(t)); }};
};

// What `f` wrote to a temporary FILE*.
template <class F>
std::string captured(F f) {
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  f(out);
  std::fflush(out);
  std::rewind(out);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) text.append(buf, n);
  std::fclose(out);
  return text;
}

struct Recorder : incidents::IncidentSink {
  std::vector<std::pair<EventType, std::string>> events;  // type, first incident's id
  std::vector<std::string> joined;
  void on_incident_event(const incidents::IncidentEvent& e) override {
    events.emplace_back(e.type, e.incidents.front()->id);
  }
  void on_pod_joined(const incidents::Incident&, const std::string& pod) override {
    joined.push_back(pod);
  }
};

std::vector<std::string> log_lines;
void capture_log(std::string_view line) {
  log_lines.emplace_back(line);
}

incidents::Incident oom() {
  auto inc = test::incident("cart");
  inc.all_pods = {"cart-abc", "cart-def"};
  inc.restarts = 4;
  inc.exit_code = 137;
  inc.resolved_at = inc.first_seen + 90;
  return inc;
}

}  // namespace

TEST_CASE("console: the demo's lines for every event type") {
  Env env;
  auto inc = oom();
  auto diagnosed = inc;
  diagnosed.diagnosis = Redacted::from_state("the heap outgrew 256Mi");
  diagnosed.diagnosis_model = "mistral";
  const std::string facts =
      "[shop] OOMKilled Deployment/cart container app: 2 pods, exit 137 (SIGKILL: out of memory "
      "or killed), 4 restarts";
  auto text = captured([&](std::FILE* out) {
    ConsoleNotifier console(ConsoleNotifier::Mode::kConsole, env.facts, nullptr, out);
    console.on_incident_event({EventType::kOpened, {&inc}});
    console.on_incident_event({EventType::kOpened, {&diagnosed}});
    console.on_incident_event({EventType::kReminder, {&diagnosed}});
    console.on_incident_event({EventType::kDiagnosed, {&diagnosed}});
    console.on_incident_event({EventType::kDigest, {&inc, &diagnosed}});
    console.on_incident_event({EventType::kResolved, {&inc}});
  });
  CHECK(text ==
        "OPENED   " + facts + "  (incident id-cart)\n" + "OPENED   " + facts +
            "  (incident id-cart)\n" + "         likely cause (mistral): the heap outgrew 256Mi\n" +
            "REMINDER " + facts + "  (incident id-cart)\n" + "DIAGNOSIS " + facts +
            "  (incident id-cart)\n" + "         likely cause (mistral): the heap outgrew 256Mi\n" +
            "DIGEST   " + facts + "  (incident id-cart)\n" + "DIGEST   " + facts +
            "  (incident id-cart)\n" +
            "RESOLVED [shop] OOMKilled Deployment/cart container app: resolved after 90s (2 pods, "
            "4 restarts)  (incident id-cart)\n");
}

TEST_CASE("console: log lines with their fields and levels") {
  Env env;
  auto inc = oom();
  inc.diagnosis = Redacted::from_state("the heap outgrew 256Mi");
  log_lines.clear();
  log::init(log::Level::kInfo, log::Format::kJson);
  log::set_sink(capture_log);
  ConsoleNotifier logs(ConsoleNotifier::Mode::kLog, env.facts);
  logs.on_incident_event({EventType::kOpened, {&inc}});
  logs.on_incident_event({EventType::kResolved, {&inc}});
  log::set_sink(nullptr);
  REQUIRE(log_lines.size() == 2);
  auto opened = parse::json_text(log_lines[0], "log line");
  auto resolved = parse::json_text(log_lines[1], "log line");
  REQUIRE(opened.ok());
  REQUIRE(resolved.ok());
  const nlohmann::json& o = *opened;
  CHECK(parse::string_or(o, "level") == "warn");
  CHECK(parse::string_or(o, "component") == "incidents");
  CHECK(parse::string_or(o, "msg") == "incident.opened");
  CHECK(parse::string_or(o, "id") == "id-cart");
  CHECK(parse::string_or(o, "fingerprint") == inc.fingerprint);
  CHECK(parse::string_or(o, "namespace") == "shop");
  CHECK(parse::string_or(o, "reason") == "OOMKilled");
  CHECK(parse::string_or(o, "workload") == "Deployment/cart");
  CHECK(parse::string_or(o, "container") == "app");
  CHECK(parse::get_integer<int>(o, "pods") == 2);
  CHECK(parse::get_integer<int>(o, "restarts") == 4);
  CHECK(parse::string_or(o, "facts") == env.facts.describe(inc));
  CHECK(parse::string_or(o, "diagnosis") == "the heap outgrew 256Mi");
  const nlohmann::json& r = *resolved;
  CHECK(parse::string_or(r, "level") == "info");
  CHECK(parse::string_or(r, "msg") == "incident.resolved");
  CHECK(parse::string_or(r, "facts") == incidents::Facts::resolved(inc));
}

TEST_CASE("console: every event and joined pod is handed on to the next sink, after the line") {
  Env env;
  auto a = oom();
  auto b = test::incident("web");
  // Records what it is handed, and how much the console had written by then.
  struct Probe final : Recorder {
    std::FILE* out = nullptr;
    std::vector<long> written;
    void on_incident_event(const incidents::IncidentEvent& e) override {
      written.push_back(std::ftell(out));
      Recorder::on_incident_event(e);
    }
  } next;
  auto text = captured([&](std::FILE* out) {
    next.out = out;
    ConsoleNotifier console(ConsoleNotifier::Mode::kConsole, env.facts, &next, out);
    console.on_incident_event({EventType::kOpened, {&a}});
    console.on_incident_event({EventType::kDigest, {&b, &a}});
    console.on_pod_joined(a, "cart-xyz");
  });
  REQUIRE(next.events.size() == 2);
  CHECK(next.events[0] == std::pair{EventType::kOpened, std::string("id-cart")});
  CHECK(next.events[1] == std::pair{EventType::kDigest, std::string("id-web")});
  CHECK(next.joined == std::vector<std::string>{"cart-xyz"});
  // Each event's lines were out before the next sink saw it: one line, then all three.
  REQUIRE(next.written.size() == 2);
  CHECK(next.written[0] == static_cast<long>(text.find('\n') + 1));
  CHECK(next.written[1] == static_cast<long>(text.size()));
}
