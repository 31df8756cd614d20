#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "core/http.h"
#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"

using namespace podmedic;
using parse::json;

TEST_CASE("integers parse whole and in range, never throw") {
  CHECK(parse::integer<int>("42") == 42);
  CHECK(parse::integer<int>("-7") == -7);
  CHECK(parse::integer<long>("99999999999999999999") == std::nullopt);
  CHECK(parse::integer<unsigned>("-1") == std::nullopt);
  CHECK(parse::integer<int>("12abc") == std::nullopt);
  CHECK(parse::integer<int>("") == std::nullopt);
  CHECK(parse::integer<int>(" 1") == std::nullopt);
  CHECK(parse::port("8080") == 8080);
  CHECK(parse::port("0") == 0);
  CHECK(parse::port("0", false) == std::nullopt);
  CHECK(parse::port("65536") == std::nullopt);
  CHECK(parse::port("12345678901234567890123") == std::nullopt);
  CHECK(parse::port("abc") == std::nullopt);
}

TEST_CASE("JSON getters return nothing for absent, null and wrong-typed members") {
  auto j = parse::json_text(
      R"({"s":"x","n":null,"i":5,"big":4294967303,"neg":-1,"f":2.0,"h":2.5,"b":true,"bs":"true",
          "o":{},"a":[1]})",
      "test");
  REQUIRE(j.ok());
  CHECK(parse::get_string(*j, "s") == "x");
  CHECK(parse::get_string(*j, "n") == std::nullopt);
  CHECK(parse::get_string(*j, "i") == std::nullopt);
  CHECK(parse::get_string(*j, "missing") == std::nullopt);
  CHECK(parse::get_integer<int>(*j, "i") == 5);
  CHECK(parse::get_integer<std::uint32_t>(*j, "big") == std::nullopt);
  CHECK(parse::get_integer<std::int64_t>(*j, "big") == 4294967303);
  CHECK(parse::get_integer<std::uint32_t>(*j, "neg") == std::nullopt);
  CHECK(parse::get_integer<int>(*j, "f") == 2);
  CHECK(parse::get_integer<int>(*j, "h") == std::nullopt);
  CHECK(parse::get_integer<int>(*j, "s") == std::nullopt);
  CHECK(parse::get_bool(*j, "b") == true);
  CHECK(parse::get_bool(*j, "bs") == std::nullopt);
  CHECK(parse::get_object(*j, "o") != nullptr);
  CHECK(parse::get_object(*j, "a") == nullptr);
  CHECK(parse::get_array(*j, "a") != nullptr);
  CHECK(parse::string_or(*j, "n", "d") == "d");
  CHECK(parse::get_string(json::array(), "s") == std::nullopt);
  CHECK(parse::member(json("str"), "s") == nullptr);
  CHECK(parse::element(*parse::get_array(*j, "a"), 1) == nullptr);

  auto v = parse::need_integer<int>(*j, "bs");
  REQUIRE(!v.ok());
  CHECK(v.error().message == "field \"bs\": expected an integer in range, got a string");
  CHECK(parse::need_string(*j, "missing").error().message == "missing field \"missing\"");
  CHECK(parse::wrong_type(*j, "bs", json::value_t::boolean));
  CHECK(!parse::wrong_type(*j, "n", json::value_t::boolean));
  CHECK(!parse::wrong_type(*j, "missing", json::value_t::boolean));
}

TEST_CASE("JSON text and dump never throw") {
  CHECK(!parse::json_text("{\"a\":", "x").ok());
  CHECK(parse::json_text("{\"a\":", "LLM reply").error().message == "LLM reply: not valid JSON");
  CHECK(!parse::json_text("", "x").ok());
  json j = {{"k", std::string("bad \xff\xfe utf8")}};
  CHECK(parse::dump(j) == "{\"k\":\"bad \xEF\xBF\xBD\xEF\xBF\xBD utf8\"}");
  std::string deep(100000, '[');
  CHECK(!parse::json_text(deep, "x").ok());
}

TEST_CASE("YAML scalars read without as<>") {
  auto n = YAML::Load("{a: maybe, b: Yes, c: [1], d: 'x'}");
  CHECK(parse::yaml_bool(n["a"]) == std::nullopt);
  CHECK(parse::yaml_bool(n["b"]) == true);
  CHECK(parse::yaml_string(n["c"]) == std::nullopt);
  CHECK(parse::yaml_string(n["d"]) == "x");
  CHECK(parse::yaml_string(n["zz"]) == std::nullopt);
}

TEST_CASE("overflowing durations and sizes are errors, not wrapped values") {
  CHECK(!parse_duration("99999999999999999999d").ok());
  CHECK(!parse_duration("1e400s").ok());
  CHECK(parse_duration("36500d").ok());
  CHECK(!parse_size("17179869185GiB").ok());
  CHECK(!parse_size("99999999999999999999999").ok());
  CHECK(parse_size("1GiB").value() == 1073741824ull);
}

TEST_CASE("Retry-After: absurd values are capped, garbage ignored") {
  CHECK(http::parse_retry_after("99999999999999999999", 0) == http::kMaxRetryAfterSeconds);
  CHECK(http::parse_retry_after("120", 0) == 120);
  CHECK(http::parse_retry_after("999999", 0) == http::kMaxRetryAfterSeconds);
  CHECK(http::parse_retry_after("-5", 0) == -1);
  CHECK(http::parse_retry_after("soon", 0) == -1);
  CHECK(http::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 0) == http::kMaxRetryAfterSeconds);
  CHECK(http::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470) == 10);
  CHECK(http::parse_retry_after(std::string(5000, '9'), 0) == -1);
}

#include "core/peer_errors.h"

TEST_CASE("peer errors: fixed series from the start, shared across instances") {
  prometheus::Registry reg;
  PeerErrors a(reg), b(reg);
  a.count(Peer::kLlm, PeerFault::kWrongType);
  b.count(Peer::kLlm, PeerFault::kWrongType);
  CHECK(a.value(Peer::kLlm, PeerFault::kWrongType) == 2);
  auto families = reg.Collect();
  REQUIRE(families.size() == 1);
  CHECK(families[0].metric.size() == kPeerCount * kPeerFaultCount);
}

TEST_CASE("field_error bounds a long field name without splitting a character") {
  // 1 + 40 x 2 bytes: a byte cut at 64 would end inside the 32nd "é".
  std::string key = "a";
  for (int i = 0; i < 40; ++i) key += "\xC3\xA9";
  json obj = json::object();
  auto e = parse::field_error(obj, key, "a string");
  CHECK(text::is_valid_utf8(e.message));
  CHECK(e.message.find(key.substr(0, 63)) != std::string::npos);
  CHECK(e.message.find(key.substr(0, 65)) == std::string::npos);
}
