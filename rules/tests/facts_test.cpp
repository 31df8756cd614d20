// Facts beyond logs, as words: terminations, init containers, probes, memory verdicts.
#include <catch2/catch.hpp>

#include "rules/facts.h"

using namespace podmedic;
using namespace podmedic::rules;

namespace {

k8s::ContainerView terminated(Interner& in, const char* reason, int exit_code, std::int64_t ran,
                              bool in_last = true) {
  k8s::ContainerView c;
  c.name = in.intern("app");
  k8s::ContainerState t;
  t.kind = k8s::ContainerState::kTerminated;
  t.reason = in.intern(reason);
  t.exit_code = exit_code;
  t.started_at = 1'800'000'000;
  t.finished_at = t.started_at + ran;
  if (in_last) {
    c.last = t;
    c.state.kind = k8s::ContainerState::kWaiting;
    c.state.reason = in.intern("CrashLoopBackOff");
  } else {
    c.state = t;
  }
  return c;
}

}  // namespace

TEST_CASE("durations read as people say them") {
  CHECK(human_duration(2) == "2 s");
  CHECK(human_duration(200) == "3 min 20 s");
  CHECK(human_duration(3 * 3600 + 300) == "3 h 5 min");
  CHECK(human_duration(3 * 3600) == "3 h");
  CHECK(human_duration(2 * 86400 + 4 * 3600) == "2 d 4 h");
  CHECK(human_duration(-5) == "0 s");
}

TEST_CASE("last termination: a crash at start-up vs after hours, signal and meaning") {
  Interner in;
  CHECK(last_termination(terminated(in, "Error", 1, 2), in) ==
        "Error, exit 1 (application error), crashed 2 s after start (at start-up)");
  CHECK(last_termination(terminated(in, "OOMKilled", 137, 3 * 3600), in) ==
        "OOMKilled, exit 137 (SIGKILL: out of memory or killed), signal 9 (SIGKILL), after "
        "running 3 h");
  auto segv = terminated(in, "Error", 139, 40, false);
  CHECK(last_termination(segv, in).find("signal 11 (SIGSEGV)") != std::string::npos);
  auto reported = terminated(in, "Error", 2, 40);
  reported.last.signal = 6;
  CHECK(last_termination(reported, in).find("signal 6 (SIGABRT)") != std::string::npos);
  // Never terminated: nothing to say.
  k8s::ContainerView running;
  running.state.kind = k8s::ContainerState::kRunning;
  CHECK(last_termination(running, in).empty());
  // The termination message: of the state while terminated, else of lastState.
  auto c = terminated(in, "Error", 1, 2);
  c.message = "back-off 10s restarting";
  c.last_message = "config key db.url missing";
  CHECK(termination_message(c) == "config key db.url missing");
  auto now = terminated(in, "Error", 1, 2, false);
  now.message = "panic: boom";
  CHECK(termination_message(now) == "panic: boom");
}

TEST_CASE("init containers that have not completed are facts; completed ones are not") {
  Interner in;
  k8s::PodView pod;
  auto migrate = terminated(in, "Error", 1, 3);
  migrate.name = in.intern("migrate");
  migrate.init = true;
  migrate.restart_count = 4;
  migrate.has_status = true;
  auto done = terminated(in, "Completed", 0, 3, false);
  done.name = in.intern("copy-config");
  done.init = true;
  auto app = terminated(in, "Error", 1, 3);
  pod.containers = {done, migrate, app};
  auto facts = init_container_facts(pod, in);
  REQUIRE(facts.size() == 1);
  CHECK(facts[0] ==
        "init container migrate: waiting (CrashLoopBackOff); last ended: Error, exit 1 "
        "(application error), crashed 3 s after start (at start-up), 4 restarts; the app "
        "containers wait for it");
}

TEST_CASE("probe events: liveness kills, readiness does not") {
  CHECK(probe_meaning("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500")
            ->find("killed by its liveness probe") != std::string::npos);
  CHECK(probe_meaning("Unhealthy", "Startup probe failed: dial tcp: connection refused")
            ->find("killed by its startup probe") != std::string::npos);
  CHECK(probe_meaning("Unhealthy", "Readiness probe failed: timeout")->find("not restarted") !=
        std::string::npos);
  CHECK(*probe_meaning("Killing", "Container app failed liveness probe, will be restarted") ==
        "killed by its liveness probe");
  CHECK_FALSE(probe_meaning("BackOff", "Liveness probe failed"));
  CHECK_FALSE(probe_meaning("Unhealthy", "something else"));
  CHECK_FALSE(probe_meaning("Killing", "Stopping container app"));
}

TEST_CASE("OOM verdict: its own limit vs the node running out") {
  NodeMemory calm;
  calm.known = true;
  calm.memory_pressure = "False";
  CHECK(oom_verdict("256Mi", "128Mi", "worker-1", calm) ==
        "the container hit its own memory limit (limit 256Mi, request 128Mi); node worker-1 "
        "reported no memory pressure");
  NodeMemory pressed = calm;
  pressed.memory_pressure = "True";
  pressed.pressure_since = 1'800'000'000;
  auto v = oom_verdict("256Mi", "", "worker-1", pressed);
  CHECK(
      v.find("node worker-1 ran out of memory (MemoryPressure True since 2027-01-15T08:00:00Z)") ==
      0);
  CHECK(v.find("request none") != std::string::npos);
  NodeMemory system_oom = calm;
  system_oom.node_oom_events = {"SystemOOM (x1) at 2027-01-15T08:00:00Z: System OOM encountered"};
  CHECK(
      oom_verdict("256Mi", "128Mi", "worker-1", system_oom).find("ran out of memory (SystemOOM") !=
      std::string::npos);
  CHECK(oom_verdict("", "", "worker-1", calm).find("no memory limit") == 0);
  NodeMemory unknown;
  unknown.unknown_why = "node facts skipped: watch.namespaces is set";
  CHECK(oom_verdict("256Mi", "128Mi", "worker-1", unknown) ==
        "memory limit 256Mi, request 128Mi; the node's state is unknown (node facts skipped: "
        "watch.namespaces is set)");
}

TEST_CASE("change phrases: at most kMaxPhrases, then a count") {
  struct C {
    std::string field, container, from, to;
  };
  std::vector<C> cs;
  for (int i = 0; i < 8; ++i) cs.push_back({"env", "app", "", "V" + std::to_string(i)});
  auto s = describe_changes(cs);
  CHECK(s.find("env V0 added; env V1 added") == 0);
  CHECK(s.find("; and 2 more") != std::string::npos);
  CHECK(s.find("V6") == std::string::npos);
}
