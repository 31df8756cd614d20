// POST /mcp through the real pipeline and its HTTP server, against the simulated cluster, with an
// in-process LLM that hangs until released: a tool call answers within its time budget (diagnose
// with the evidence, the rules-based facts and a note; ask with an isError), the calls left
// running keep the in-flight slots /ask and /diagnose share, and once the LLM answers the tool
// gives its diagnosis.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "app/pipeline.h"
#include "core/http.h"
#include "tests/fake_clock.h"
#include "tests/fake_llm.h"
#include "tests/integration/harness.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::test;
using json = nlohmann::json;

namespace {

struct Drop final : incidents::IncidentSink {
  void on_incident_event(const incidents::IncidentEvent&) override {}
};

// One tools/call over HTTP from another thread while this one drives the pipeline's io_context.
struct Caller {
  Harness& h;
  unsigned short port;
  // The reply to `body` (one message or a batch) sent with `version` (empty: no header).
  json post(const json& body, const std::string& version,
            std::chrono::milliseconds* took = nullptr) {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (!version.empty()) headers.push_back("MCP-Protocol-Version: " + version);
    http::PostResult res;
    std::atomic<bool> done{false};
    auto t0 = std::chrono::steady_clock::now();
    std::thread client([&] {
      res = http::request("POST", "http://127.0.0.1:" + std::to_string(port) + "/mcp", headers,
                          body.dump(), std::chrono::seconds(20), 1 << 20);
      done = true;
    });
    bool answered = run_until(
        h.ioc, [&] { return done.load(); }, std::chrono::seconds(25));
    client.join();
    if (took)
      *took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - t0);
    REQUIRE(answered);
    REQUIRE(res.status == 200);
    auto j = json::parse(res.body, nullptr, false);
    REQUIRE(!j.is_discarded());
    return j;
  }
  static json request(const std::string& tool, const json& args) {
    return {{"jsonrpc", "2.0"},
            {"id", 1},
            {"method", "tools/call"},
            {"params", {{"name", tool}, {"arguments", args}}}};
  }
  json call(const std::string& tool, const json& args, std::chrono::milliseconds* took = nullptr) {
    auto j = post(request(tool, args), "2025-06-18", took);
    REQUIRE(j.contains("result"));
    return j["result"];
  }
};

}  // namespace

TEST_CASE("mcp: a tool call answers within its budget when the LLM hangs") {
  test::TempDir dir;
  Harness h;
  test::FakeClock clock;
  sim::PodTemplate t;
  t.ns = "shop";
  t.deployment = "cart";
  t.name = "cart-7d9f8b6c5d-0";
  h.server.store().upsert(sim::Res::kPods, sim::make_pod(t, h.now));
  h.server.set_logs("shop", t.name, "app", "", "starting\nfatal: cannot open /data\n");
  auto llm = std::make_shared<FakeLlm>();
  llm->gate(true);  // every LLM call hangs until released
  GroupCommit writer;
  app::PipelineOptions opts;
  opts.tick = std::chrono::milliseconds(10);
  opts.llm = llm;
  opts.writer = &writer;
  const auto kBudget = std::chrono::milliseconds(1500);
  opts.mcp_tool_budget = kBudget;
  app::Config c;
  c.cluster.name = "sim";
  c.state.dir = dir.path.string();
  c.server.listen = "127.0.0.1:0";
  c.watch.tuning = fast_options();
  c.watch.exclude_namespaces = {"kube-system"};
  k8s::ClusterConnection conn;
  REQUIRE(k8s::parse_server_url(h.server.url(), conn).ok());
  Drop sink;
  {
    app::Pipeline p(h.ioc, c, std::move(conn), sink, clock, opts);
    REQUIRE(p.start().ok());
    REQUIRE(run_until(h.ioc, [&] { return p.synced(); }));
    h.crash("shop", t.name, 1, "Error");
    REQUIRE(run_until(h.ioc, [&] { return p.tracker().open_count() == 1; }));
    Caller mcp{h, p.http_port()};

    // A batch (2025-03-26, no header) shares one budget: the diagnosis spends it, the ask after
    // it is not even started.
    std::chrono::milliseconds took{};
    auto batch = mcp.post(json::array({Caller::request("diagnose", {{"namespace", "shop"}}),
                                       Caller::request("ask", {{"question", "q"}})}),
                          "", &took);
    CHECK(took >= kBudget);
    CHECK(took < kBudget + std::chrono::seconds(3));
    REQUIRE(batch.size() == 2);
    auto slow = batch[0]["result"];
    CHECK(slow["isError"] == false);
    CHECK(batch[1]["result"]["isError"] == true);
    CHECK(batch[1]["result"]["content"][0]["text"].get<std::string>().find("no time left") !=
          std::string::npos);
    auto partial = json::parse(slow["content"][0]["text"].get<std::string>());
    CHECK(partial["note"].get<std::string>().find("did not answer") != std::string::npos);
    CHECK_FALSE(partial.contains("answer"));
    CHECK(partial["pods"] == json{t.name});
    CHECK(partial["context"].get<std::string>().find("fatal: cannot open /data") !=
          std::string::npos);
    CHECK_FALSE(partial["facts"].empty());

    auto ask = mcp.call("ask", {{"question", "what is exit code 1?"}}, &took);
    CHECK(took < kBudget + std::chrono::seconds(3));
    CHECK(ask["isError"] == true);
    CHECK(ask["structuredContent"]["error"].get<std::string>().find("time budget") !=
          std::string::npos);

    // Both requests still wait for the LLM and hold the two request slots: a third is refused
    // at once, as /diagnose would answer 429.
    auto busy = mcp.call("diagnose", {{"namespace", "shop"}}, &took);
    CHECK(took < kBudget);
    CHECK(busy["isError"] == true);
    CHECK(busy["structuredContent"]["error"].get<std::string>().find("too many") !=
          std::string::npos);

    auto refused = mcp.call("diagnose", {{"namespace", "kube-system"}});
    CHECK(refused["isError"] == true);
    CHECK(refused["structuredContent"]["error"].get<std::string>().find("watch scope") !=
          std::string::npos);

    // The LLM answers: the held requests end, their slots free up, the tool gives the diagnosis.
    llm->gate(false);
    json ok;
    REQUIRE(run_until(h.ioc, [&] {
      ok = mcp.call("diagnose", {{"namespace", "shop"}, {"question", "why?"}});
      return ok["structuredContent"].contains("answer");
    }));
    CHECK(ok["isError"] == false);
    CHECK(ok["structuredContent"]["answer"] == "The container runs out of memory.");
    CHECK(ok["structuredContent"]["model"] == "fake-model");
    CHECK_FALSE(ok["structuredContent"].contains("note"));

    // The incident the pipeline opened is there to list and read.
    auto listed = mcp.call("list_incidents", json::object());
    REQUIRE(listed["structuredContent"]["incidents"].size() == 1);
    auto id = listed["structuredContent"]["incidents"][0]["id"];
    auto got = mcp.call("get_incident", {{"id", id}});
    CHECK(got["isError"] == false);
    CHECK(got["structuredContent"]["namespace"] == "shop");
    CHECK(got["structuredContent"]["reason"] == "CrashLoopBackOff");
    CHECK(got["structuredContent"]["severity"] == "warning");
    CHECK(got["structuredContent"]["changes"].is_array());
  }
}
