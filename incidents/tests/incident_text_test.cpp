// The text an Incident carries out of incident.cpp: its id (hex of a hash) and the field names a
// refused state entry is reported with.
#include <catch2/catch.hpp>

#include "core/text.h"
#include "incidents/incident.h"

using namespace podmedic;
using namespace podmedic::incidents;

TEST_CASE("incident_id: the first 8 bytes of SHA-256(fingerprint#opened_at) in lowercase hex") {
  CHECK(incident_id("c/ns/Deployment/w/app/OOMKilled", 1700000000) == "370a0469ff46b680");
  CHECK(incident_id("c/ns/Deployment/w/app/OOMKilled", 1700000001) != "370a0469ff46b680");
}

TEST_CASE("a refused podState entry is named cut to 64 bytes, never mid-character") {
  std::string name = "p";  // 1 + 40 x 2 bytes: a byte cut at 64 ends inside the 32nd "é"
  for (int i = 0; i < 40; ++i) name += "\xC3\xA9";
  nlohmann::json j = {{"id", "x"}, {"podState", {{name, 5}}}};
  auto r = from_json(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("\"podState." + name.substr(0, 63) + "\"") != std::string::npos);
  CHECK(text::is_valid_utf8(r.error().message));
}

TEST_CASE("runbook templates: known placeholders only, values percent-encoded") {
  CHECK(check_runbook_template("https://rb.example/oom?ns={namespace}&w={workload}") == "");
  CHECK(check_runbook_template("ftp://rb.example/") != "");
  CHECK(check_runbook_template("https://rb.example/{pod}").find("unknown placeholder {pod}") !=
        std::string::npos);
  CHECK(check_runbook_template("https://rb.example/{namespace").find("unclosed") !=
        std::string::npos);
  Incident i;
  i.cluster = "prod eu/1";
  i.ns = "shop";
  i.workload = {"Deployment", "cart&x=1#"};
  i.container = "app";
  i.reason = "OOMKilled";
  CHECK(expand_runbook("https://rb/{cluster}/{reason}?ns={namespace}&w={workload}&c={container}",
                       i) == "https://rb/prod%20eu%2F1/OOMKilled?ns=shop&w=cart%26x%3D1%23&c=app");
}

TEST_CASE("severity, runbook URL and changes survive the state file; wrong types are named") {
  Incident i;
  i.id = "x";
  i.fingerprint = "c/ns/Deployment/w/app/OOMKilled";
  i.reason = "OOMKilled";
  i.severity = "critical";
  i.runbook_url = "https://rb/oom";
  i.changes = {
      {"image", "app", Redacted::from_state("api:1.9.0"), Redacted::from_state("api:1.9.1")}};
  auto j = to_json(i);
  CHECK(j["changes"] == nlohmann::json::array({{{"field", "image"},
                                                {"container", "app"},
                                                {"from", "api:1.9.0"},
                                                {"to", "api:1.9.1"}}}));
  auto back = from_json(j);
  REQUIRE(back.ok());
  CHECK(back.value().severity == "critical");
  CHECK(back.value().runbook_url == "https://rb/oom");
  CHECK(back.value().changes == i.changes);

  j["changes"][0]["to"] = 5;
  auto bad = from_json(j);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("\"changes[].to\"") != std::string::npos);

  j["changes"] = nlohmann::json::array();
  for (int n = 0; n < 100; ++n) j["changes"].push_back(to_json(i)["changes"][0]);
  auto many = from_json(j);
  REQUIRE(many.ok());
  CHECK(many.value().changes.size() == kMaxChanges);
}

TEST_CASE("a quietly reopened incident stays quiet across a restart") {
  Incident i;
  i.id = "x";
  i.fingerprint = "c/shop/Deployment/cart/app/Error";
  i.reason = "CrashLoopBackOff";
  CHECK_FALSE(to_json(i).contains("quiet"));
  i.quiet = true;
  auto j = to_json(i);
  CHECK(j["quiet"] == true);
  auto back = from_json(j);
  REQUIRE(back.ok());
  CHECK(back.value().quiet);
  j["quiet"] = "yes";
  auto bad = from_json(j);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("\"quiet\"") != std::string::npos);
}
