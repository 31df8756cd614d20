// The pure loaders of the notifiers' files and the Slack Web API reply: a top level that does not
// load is an error; entries of the wrong type are skipped and named; nothing throws.
#include <catch2/catch.hpp>

#include "core/text.h"
#include "notifiers/state.h"

using namespace podmedic;
using namespace podmedic::notifiers;

TEST_CASE("outbox files: wrong types never throw, valid messages are kept") {
  for (const char* bad : {"", "{\"version\":1,\"messages\":[{\"id\":\"a\"", "[]", "null",
                          R"({"version":"1","messages":[]})", R"({"version":2,"messages":[]})",
                          R"({"version":1,"messages":{"id":"a"}})", R"({"version":1})"}) {
    INFO(bad);
    CHECK_FALSE(parse_outbox(bad).ok());
  }
  auto v = parse_outbox(R"({"version":1.0,"notifier":7,"messages":[
      {"id":5,"body":"x"},
      {"id":"a","body":null},
      {"id":"b","body":"x","attempts":"3"},
      {"id":"c","body":"x","root":"yes"},
      {"id":"d","body":"x","created":1e300},
      {"id":"e","body":"x","attempts":-1},
      {"id":"","body":"x"},
      "junk",
      {"id":"ok1","body":"{}","event":"incident.opened","thread":"id-1","root":true,"attempts":2,"created":1790000000},
      {"id":"ok2","body":"{}","event":null,"thread":null,"root":null,"attempts":null}
    ]})");
  REQUIRE(v.ok());
  REQUIRE(v->items.size() == 2);
  CHECK(v->skipped == 8);
  CHECK(v->first_skip == "entry 0: field \"id\": expected a string, got an integer");
  const auto& m = v->items[0];
  CHECK(m.id == "ok1");
  CHECK(m.payload.event == "incident.opened");
  CHECK(m.payload.thread == "id-1");
  CHECK(m.payload.root);
  CHECK(m.attempts == 2);
  CHECK(m.created == 1790000000);
  CHECK(v->items[1].payload.event.empty());
  CHECK_FALSE(v->items[1].payload.root);
  // What we write reads back the same.
  auto again = parse_outbox_message(outbox_message_json(m));
  REQUIRE(again.ok());
  CHECK(again->id == m.id);
  CHECK(again->created == m.created);
}

TEST_CASE("Slack thread files: wrong types never throw, the newest valid entries are kept") {
  CHECK_FALSE(parse_slack_threads(R"({"version":1,"threads":"no"})").ok());
  CHECK_FALSE(parse_slack_threads(R"({"version":1,"threads":[)").ok());
  auto v = parse_slack_threads(R"({"version":1,"threads":[
      {"incident":"a","ts":"1.1"},{"incident":5,"ts":"1.2"},{"incident":"b","ts":1503435956.000250},
      {"incident":"c"},{"incident":"d","ts":"1.4"},{"incident":"e","ts":"1.5"}]})",
                               2);
  REQUIRE(v.ok());
  CHECK(v->skipped == 3);
  REQUIRE(v->items.size() == 2);
  CHECK(v->items[0].incident == "d");
  CHECK(v->items[1].ts == "1.5");
}

TEST_CASE("Slack Web API replies of every shape") {
  using K = SlackReply::Kind;
  struct Case {
    const char* body;
    K kind;
    std::optional<PeerFault> fault;
    const char* ts;
    const char* error;
  };
  for (const Case& c : {
           Case{R"({"ok":true,"ts":"1503435956.000250"})", K::kOk, std::nullopt,
                "1503435956.000250", ""},
           Case{R"({"ok":true,"ts":1503435956.000250})", K::kOk, PeerFault::kWrongType, "", ""},
           Case{R"({"ok":true})", K::kOk, PeerFault::kWrongType, "", ""},
           Case{R"({"ok":"true","ts":"1.2"})", K::kUnreadable, PeerFault::kWrongType, "1.2", ""},
           Case{R"({"ok":1})", K::kUnreadable, PeerFault::kWrongType, "", ""},
           Case{R"({"ok":null})", K::kUnreadable, PeerFault::kWrongType, "", ""},
           Case{R"({"ok":false,"error":"channel_not_found"})", K::kError, std::nullopt, "",
                "channel_not_found"},
           Case{R"({"ok":false,"error":null,"ts":"1.2"})", K::kError, PeerFault::kWrongType, "",
                "unknown_error"},
           Case{R"({"ok":false,"error":{"code":1}})", K::kError, PeerFault::kWrongType, "",
                "unknown_error"},
           Case{R"(["ok"])", K::kUnreadable, PeerFault::kWrongType, "", ""},
           Case{"<html>Bad Gateway</html>", K::kUnreadable, PeerFault::kMalformed, "", ""},
           Case{"", K::kUnreadable, PeerFault::kMalformed, "", ""},
       }) {
    INFO(c.body);
    auto r = parse_slack_reply(c.body);
    CHECK(r.kind == c.kind);
    CHECK(r.fault == c.fault);
    CHECK(r.ts == c.ts);
    CHECK(r.error == c.error);
    if (r.fault) CHECK_FALSE(r.detail.empty());
  }
}

TEST_CASE("a long Slack error is kept to 100 bytes without splitting a character") {
  std::string error = "x";  // 1 + 60 x 2 bytes: a byte cut at 100 ends inside the 50th "é"
  for (int i = 0; i < 60; ++i) error += "\xC3\xA9";
  auto r = parse_slack_reply(R"({"ok":false,"error":")" + error + R"("})");
  CHECK(r.kind == SlackReply::Kind::kError);
  CHECK(r.error == error.substr(0, 99));
  CHECK(text::is_valid_utf8(r.error));
}
