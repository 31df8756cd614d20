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
