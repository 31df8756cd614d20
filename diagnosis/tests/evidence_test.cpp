#include <catch2/catch.hpp>

#include "diagnosis/evidence.h"
#include "diagnosis/redact.h"
#include "tests/integration/harness.h"

using namespace podmedic;
using namespace podmedic::diagnosis;
using namespace podmedic::test;

namespace {

// A pod of the Deployment shop/cart named `name`, in the simulated cluster.
void add_cart_pod(Harness& h, const std::string& name) {
  sim::PodTemplate t;
  t.ns = "shop";
  t.deployment = "cart";
  t.name = name;
  h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
}

// gather_pod run to its end on the harness's io_context.
Result<Evidence> gather(Harness& h, const std::string& pod, LogBudget budget = {},
                        std::shared_ptr<RedactionSession> session = {}) {
  rules::Detector det(h.interner, {});
  std::optional<Result<Evidence>> got;
  net::co_spawn(h.ioc, gather_pod(*h.client, h.interner, det, "shop", pod, budget, session),
                [&](std::exception_ptr e, Result<Evidence> r) {
                  if (e) std::rethrow_exception(e);
                  got.emplace(std::move(r));
                });
  REQUIRE(run_until(h.ioc, [&] { return got.has_value(); }));
  return std::move(*got);
}

}  // namespace

TEST_CASE("log selection keeps error lines and the tail within the budget") {
  std::string log;
  for (int i = 0; i < 1000; ++i) log += "INFO request " + std::to_string(i) + " served in 3ms\n";
  log.insert(log.find("request 100 "), "ERROR connection refused to db:5432\n");
  log += "FATAL out of memory while loading cache\n";
  auto out = select_log_lines(log, 2000);
  CHECK(out.size() <= 2000);  // the "left out" markers included
  CHECK(out.find("ERROR connection refused to db:5432") != std::string::npos);
  CHECK(out.find("FATAL out of memory") != std::string::npos);
  CHECK(out.find("request 999 served") != std::string::npos);
  CHECK(out.find("lines left out") != std::string::npos);
  CHECK(out.find("request 500 served") == std::string::npos);
}

TEST_CASE("log selection: the left-out markers count against the budget") {
  // Error lines separated by noise: every kept line brings a marker. Found by redact_select_fuzz.
  std::string log;
  for (int i = 0; i < 2000; ++i) log += "oom\nx\n";
  for (int i = 0; i < 1000; ++i) log += "\n";
  for (std::size_t budget : {0u, 10u, 100u, 2000u, 8000u}) {
    auto out = select_log_lines(log, budget);
    CHECK(out.size() <= std::max<std::size_t>(budget, 40));
  }
  CHECK(select_log_lines(log, 8000).find("oom") != std::string::npos);
}

TEST_CASE("log selection sanitizes bytes and cuts huge lines") {
  std::string log = "bad bytes \xff\xfe here\n" + std::string(100000, 'x') + "\nlast line\n";
  auto out = select_log_lines(log, 8000);
  CHECK(out.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(out.find("[line cut]") != std::string::npos);
  CHECK(out.find("last line") != std::string::npos);
  CHECK(out.size() < 2000);
}

TEST_CASE("evidence for an OOMKilled pod: previous logs its own events and limits") {
  Harness h;
  add_cart_pod(h, "cart-7d9f8b6c5d-a");
  auto other = h.add_pod("shop", "noise");
  h.crash("shop", "cart-7d9f8b6c5d-a", 137, "OOMKilled");
  auto pod = *h.server.store().get(sim::Res::kPods, "shop", "cart-7d9f8b6c5d-a");
  h.server.store().upsert(
      sim::Res::kEvents, sim::make_pod_event(pod, "app", "Warning", "BackOff",
                                             "Back-off restarting failed container app", 4, h.now));
  h.server.store().upsert(
      sim::Res::kEvents,
      sim::make_pod_event(other, "app", "Warning", "Unhealthy", "other pod", 1, h.now));
  h.server.set_logs("shop", "cart-7d9f8b6c5d-a", "app", "booting again\n",
                    "loading\nconnecting with DB_PASSWORD=hunter2\njava.lang.OutOfMemoryError: "
                    "Java heap space\n");
  auto got = gather(h, "cart-7d9f8b6c5d-a");
  REQUIRE(got.ok());
  auto text = got->text();
  CHECK(text.find("OOMKilled in container app: exit 137 (SIGKILL: out of memory or killed)") !=
        std::string::npos);
  CHECK(text.find("memory limit 256Mi") != std::string::npos);
  CHECK(text.find("== Logs: app (previous instance) ==") != std::string::npos);
  CHECK(text.find("java.lang.OutOfMemoryError") != std::string::npos);
  CHECK(text.find("BackOff (x4)") != std::string::npos);
  CHECK(text.find("other pod") == std::string::npos);  // only this pod's events
  auto redactor = Redactor::create();
  REQUIRE(redactor.ok());
  auto safe = redactor->redact(text);
  CHECK(safe.find("hunter2") == std::string::npos);
  CHECK(safe.find("java.lang.OutOfMemoryError") != std::string::npos);

  rules::Detector det(h.interner, {});
  std::optional<Result<std::vector<std::string>>> failing;
  net::co_spawn(h.ioc, failing_pods(*h.client, h.interner, det, "shop", 5),
                [&](std::exception_ptr e, Result<std::vector<std::string>> r) {
                  if (e) std::rethrow_exception(e);
                  failing.emplace(std::move(r));
                });
  REQUIRE(run_until(h.ioc, [&] { return failing.has_value(); }));
  REQUIRE(failing->ok());
  CHECK(failing->value() == std::vector<std::string>{"cart-7d9f8b6c5d-a"});
}

TEST_CASE("evidence is redacted before the logs are selected, with one session for the pod") {
  Harness h;
  add_cart_pod(h, "cart-1");
  h.crash("shop", "cart-1", 1, "Error");
  auto pod = *h.server.store().get(sim::Res::kPods, "shop", "cart-1");
  // The waiting message repeats a password that only the log names as one.
  sim::set_waiting(pod, "app", "CrashLoopBackOff", "redis said: wrong pass R3dis!Pass-77");
  h.server.store().upsert(sim::Res::kPods, pod);
  h.server.store().upsert(sim::Res::kEvents,
                          sim::make_pod_event(pod, "app", "Warning", "Failed",
                                              "AUTH default R3dis!Pass-77 refused", 1, h.now));
  // A key block whose BEGIN line is far above the tail that selection keeps: selected first,
  // the body lines would reach the text without the line that marks them as a key.
  std::string previous = "connecting to redis://default:R3dis!Pass-77@cache:6379\n";
  previous += "-----BEGIN RSA PRIVATE KEY-----\n";
  for (int i = 0; i < 200; ++i)
    previous += "MIIEkeyBody" + std::to_string(i) + std::string(50, 'Q') + "\n";
  previous += "-----END RSA PRIVATE KEY-----\nERROR could not load key\n";
  h.server.set_logs("shop", "cart-1", "app", "retrying with R3dis!Pass-77\n", previous);
  auto session = std::make_shared<RedactionSession>(builtin_redactor());
  auto got = gather(h, "cart-1", {}, session);
  REQUIRE(got.ok());
  const auto text = got->text();
  INFO(text);
  CHECK(text.find("MIIEkeyBody") == std::string::npos);
  CHECK(text.find("R3dis!Pass-77") == std::string::npos);
  CHECK(text.find("ERROR could not load key") != std::string::npos);
  CHECK(text.find("wrong pass [REDACTED]") != std::string::npos);
  CHECK(text.find("AUTH default [REDACTED] refused") != std::string::npos);
  CHECK(got->session == session);
  CHECK(session->redact("the LLM says: try R3dis!Pass-77") == "the LLM says: try [REDACTED]");
}

TEST_CASE(
    "the newest lines of a long previous log reach the evidence (limitBytes cuts from the "
    "start of the tailLines window)") {
  Harness h;
  add_cart_pod(h, "cart-1");
  h.crash("shop", "cart-1", 2, "Error");
  // 2,500 JSON lines of ~1.4 KB, then the panic: the 2,000-line window is ~2.8 MB, the byte
  // limit 2 MiB, so a single request returned lines up to ~1,500 of the window and no panic.
  std::string previous;
  const std::string filler(1400, 'f');
  for (int i = 0; i < 2500; ++i)
    previous += R"({"level":"info","i":)" + std::to_string(i) + R"(,"msg":")" + filler + "\"}\n";
  previous += "panic: FINAL_LINE_MARKER\n";
  h.server.set_logs("shop", "cart-1", "app", "", previous);
  LogBudget budget{2u << 20, 8000};
  auto got = gather(h, "cart-1", budget);
  REQUIRE(got.ok());
  CHECK(got->text().find("panic: FINAL_LINE_MARKER") != std::string::npos);
}

TEST_CASE("evidence for a missing pod is a clear error") {
  Harness h;
  auto got = gather(h, "ghost");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().message == "HTTP 404 NotFound: pods \"ghost\" not found");
}
