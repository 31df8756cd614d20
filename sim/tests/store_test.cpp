#include <catch2/catch.hpp>

#include "k8s/connection.h"
#include "sim/objects.h"
#include "sim/store.h"

using namespace podmedic::sim;
using json = nlohmann::json;

namespace {
json pod(const std::string& ns, const std::string& name, const std::string& node = "n1") {
  PodTemplate t;
  t.ns = ns;
  t.name = name;
  t.node = node;
  return make_pod(t, 1700000000);
}
}  // namespace

TEST_CASE("store assigns increasing resourceVersions and records changes") {
  Store s;
  std::vector<std::string> seen;
  s.on_change = [&](const Change& c) { seen.push_back(to_string(c.type)); };
  auto a = s.upsert(Res::kPods, pod("a", "p1"));
  auto b = s.upsert(Res::kPods, pod("a", "p1"));
  CHECK(b->rv > a->rv);
  CHECK(s.remove(Res::kPods, "a", "p1"));
  CHECK_FALSE(s.remove(Res::kPods, "a", "p1"));
  CHECK(seen == std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"});
  auto since = std::get<std::vector<Change>>(s.changes_since(Res::kPods, a->rv));
  CHECK(since.size() == 2);
}

TEST_CASE("lists page with continue tokens and keep the first page's RV") {
  Store s;
  for (int i = 0; i < 7; ++i) s.upsert(Res::kPods, pod("ns", "p" + std::to_string(i)));
  ListQuery q;
  q.limit = 3;
  std::vector<std::string> names;
  std::string rv;
  for (int page = 0; page < 5; ++page) {
    auto r = std::get<ListResult>(s.list(Res::kPods, q));
    auto j = json::parse(r.body);
    CHECK(j["kind"] == "PodList");
    if (rv.empty()) rv = j["metadata"]["resourceVersion"];
    CHECK(j["metadata"]["resourceVersion"] == rv);
    for (auto& item : j["items"]) {
      CHECK_FALSE(item.contains("kind"));  // list items carry no kind of their own
      names.push_back(item["metadata"]["name"]);
    }
    if (!j["metadata"].contains("continue")) break;
    q.continue_token = j["metadata"]["continue"];
  }
  CHECK(names.size() == 7);
}

TEST_CASE("expired continue tokens and compacted RVs answer 410") {
  Store s;
  for (int i = 0; i < 4; ++i) s.upsert(Res::kPods, pod("ns", "p" + std::to_string(i)));
  ListQuery q;
  q.limit = 2;
  auto first = json::parse(std::get<ListResult>(s.list(Res::kPods, q)).body);
  auto old_rv = std::stoull(first["metadata"]["resourceVersion"].get<std::string>());
  s.compact();
  s.upsert(Res::kPods, pod("ns", "p9"));
  q.continue_token = first["metadata"]["continue"];
  auto st = std::get<ApiStatus>(s.list(Res::kPods, q));
  CHECK(st.code == 410);
  CHECK(st.message.rfind("The provided continue parameter is too old", 0) == 0);
  auto w = std::get<ApiStatus>(s.changes_since(Res::kPods, old_rv - 1));
  CHECK(w.code == 410);
  CHECK(w.reason == "Expired");
  CHECK(w.message.rfind("too old resource version", 0) == 0);
}

TEST_CASE("selectors: label set operations and field labels with apiserver errors") {
  Store s;
  auto p = pod("shop", "web-1", "node-7");
  p["metadata"]["labels"]["tier"] = "front";
  s.upsert(Res::kPods, p);
  s.upsert(Res::kPods, pod("shop", "db-1"));
  auto count = [&](const std::string& labels, const std::string& fields) -> long {
    ListQuery q;
    if (auto e = parse_label_selector(labels, q.labels)) return -e->code;
    if (auto e = parse_field_selector(Res::kPods, fields, q.fields)) return -e->code;
    return static_cast<long>(std::get<ListResult>(s.list(Res::kPods, q)).items);
  };
  CHECK(count("tier=front", "") == 1);
  CHECK(count("tier!=front", "") == 1);
  CHECK(count("tier in (front,back)", "") == 1);
  CHECK(count("tier notin (front)", "") == 1);
  CHECK(count("tier", "") == 1);
  CHECK(count("!tier", "") == 1);
  CHECK(count("", "spec.nodeName=node-7") == 1);
  CHECK(count("", "metadata.namespace=shop,metadata.name!=web-1") == 1);
  CHECK(count("", "status.phase==Running") == 2);
  CHECK(count("", "spec.bogus=1") == -400);
  ApiStatus st{0, "", ""};
  Selector sel;
  auto e = parse_field_selector(Res::kPods, "spec.bogus=1", sel);
  REQUIRE(e);
  CHECK(e->message == "field label not supported: spec.bogus");
}

TEST_CASE("the history window is bounded: older RVs expire") {
  Store s(3);
  auto first = s.upsert(Res::kPods, pod("a", "p0"));
  for (int i = 1; i < 6; ++i) s.upsert(Res::kPods, pod("a", "p" + std::to_string(i)));
  CHECK(std::holds_alternative<ApiStatus>(s.changes_since(Res::kPods, first->rv)));
  CHECK(std::get<std::vector<Change>>(s.changes_since(Res::kPods, s.current_rv() - 2)).size() == 2);
}

TEST_CASE("generated pods look like real ones: 4-20 KB with managedFields") {
  PodTemplate t;
  t.name = "x";
  t.extra_env = 40;
  t.managed_field_entries = 4;
  auto p = make_pod(t, 1700000000);
  auto size = p.dump().size();
  CHECK(size >= 4000);
  CHECK(size <= 20000);
  set_crashloop(p, "app", 137, "OOMKilled", 1700000100);
  auto& cs = p["status"]["containerStatuses"][0];
  CHECK(cs["restartCount"] == 1);
  CHECK(cs["state"]["waiting"]["reason"] == "CrashLoopBackOff");
  CHECK(cs["lastState"]["terminated"]["reason"] == "OOMKilled");
}

TEST_CASE("store: continue tokens and resourceVersions from clients are checked, never trusted") {
  Store s;
  for (int i = 0; i < 3; ++i) s.upsert(Res::kPods, pod("ns", "p" + std::to_string(i)));
  auto status_of = [&](const ListQuery& q) {
    auto r = s.list(Res::kPods, q);
    return std::holds_alternative<ApiStatus>(r) ? std::get<ApiStatus>(r).code : 200;
  };
  ListQuery q;
  q.limit = 1;
  for (std::string tok : {R"({"rv":"1001","start":"ns/p0"})", R"({"rv":1001,"start":7})",
                          R"({"rv":-3,"start":""})", R"({"rv":1.5,"start":""})", R"([])",
                          R"({"start":""})", "{\"rv\":1001,\"start\":\"\xff\"}"}) {
    INFO(tok);
    q.continue_token = podmedic::k8s::base64_encode(tok);
    CHECK(status_of(q) == 400);
  }
  q.continue_token.clear();
  for (const char* rv : {"abc", "-1", "99999999999999999999", " 5", "5 "}) {
    INFO(rv);
    q.resource_version = rv;
    CHECK(status_of(q) == 400);
  }
  q.resource_version = std::to_string(s.current_rv());
  CHECK(status_of(q) == 200);
}

TEST_CASE("store: validate_write names the wrong-typed field as the apiserver's decoder does") {
  auto why = [](Res r, const char* body) -> std::string {
    auto e = validate_write(r, json::parse(body));
    return e ? std::to_string(e->code) + " " + e->reason + ": " + e->message : "ok";
  };
  CHECK(why(Res::kLeases, R"({"metadata":{"name":"l"},"spec":{"holderIdentity":"a",
        "leaseDurationSeconds":15,"acquireTime":"2026-01-01T00:00:00.000000Z",
        "renewTime":"2026-01-01T00:00:00.000000Z","leaseTransitions":0}})") == "ok");
  CHECK(why(Res::kLeases, R"({"metadata":5})") ==
        "400 BadRequest: Lease in version \"v1\" cannot be handled as a Lease: metadata: "
        "expected an object, got an integer");
  CHECK(why(Res::kConfigMaps, R"({"metadata":{"resourceVersion":7}})") ==
        "400 BadRequest: ConfigMap in version \"v1\" cannot be handled as a ConfigMap: "
        "metadata.resourceVersion: expected a string, got an integer");
  CHECK(why(Res::kConfigMaps, R"({"data":[]})") ==
        "400 BadRequest: ConfigMap in version \"v1\" cannot be handled as a ConfigMap: data: "
        "expected an object of strings, got an array");
  CHECK(why(Res::kLeases, R"({"spec":{"leaseTransitions":-2147483649}})")
            .find("spec.leaseTransitions: expected a 32-bit integer") != std::string::npos);
  CHECK(why(Res::kLeases, R"({"kind":1})").find("kind: expected a string") != std::string::npos);
  CHECK(why(Res::kLeases, "[]").find("expected an object, got an array") != std::string::npos);
}

TEST_CASE("store: create and update reject wrong-typed bodies instead of throwing") {
  Store s;
  auto code = [](const std::variant<ObjPtr, ApiStatus>& r) {
    return std::holds_alternative<ApiStatus>(r) ? std::get<ApiStatus>(r).code : 200;
  };
  CHECK(code(s.create(Res::kLeases, json::parse(R"({"metadata":{"name":5}})"))) == 400);
  CHECK(code(s.create(Res::kLeases, json::parse(R"({"metadata":{"namespace":[]}})"))) == 400);
  CHECK(code(s.create(Res::kLeases, json::parse(R"({"metadata":{"name":"l","namespace":"x"}})"))) ==
        200);
  CHECK(code(s.update(
            Res::kLeases,
            json::parse(R"({"metadata":{"name":"l","namespace":"x","resourceVersion":{}}})"))) ==
        400);
  CHECK(code(s.update(Res::kLeases, json::parse("7"))) == 400);
  CHECK(s.get(Res::kLeases, "x", "l").has_value());
}
