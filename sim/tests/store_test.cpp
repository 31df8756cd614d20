#include <catch2/catch.hpp>

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
