// What a rollout changed: the template diff (never an env value), revision parsing from
// ReplicaSet and ControllerRevision lists (hostile bodies included) and the window.
#include <catch2/catch.hpp>

#include "core/parse.h"
#include "diagnosis/changes.h"
#include "diagnosis/node.h"
#include "rules/facts.h"
#include "sim/objects.h"

using namespace podmedic;
using namespace podmedic::diagnosis;
using json = nlohmann::json;

namespace {

json container(const std::string& name, const std::string& image) {
  return {{"name", name}, {"image", image}};
}

TemplateSpec spec_of(json containers, json volumes = json::array()) {
  json t = {{"metadata", json::object()},
            {"spec", {{"containers", std::move(containers)}, {"volumes", std::move(volumes)}}}};
  auto s = template_spec(t);
  REQUIRE(s.ok());
  return *s;
}

std::string all_text(const std::vector<TemplateChange>& cs) {
  std::string s;
  for (const auto& c : cs) s += c.field + "|" + c.container + "|" + c.from + "|" + c.to + "\n";
  return s;
}

}  // namespace

TEST_CASE("template diff: image, command and args") {
  json a = container("app", "api:1.9.0");
  a["command"] = {"/bin/api"};
  a["args"] = {"--port", "8080"};
  json b = container("app", "api:1.9.1");
  b["command"] = {"/bin/api", "serve"};
  b["args"] = {"--port", "9090", "--log level"};
  auto changes = diff_templates(spec_of({a}), spec_of({b}));
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].field == "image");
  CHECK(changes[0].container == "app");
  CHECK(changes[0].from == "api:1.9.0");
  CHECK(changes[0].to == "api:1.9.1");
  CHECK(changes[1].field == "command");
  CHECK(changes[1].to == "/bin/api serve");
  CHECK(changes[2].field == "args");
  CHECK(changes[2].from == "--port 8080");
  CHECK(changes[2].to == "--port 9090 '--log level'");
  CHECK(rules::describe_changes(changes) ==
        "image api:1.9.1 (was api:1.9.0); command /bin/api serve (was /bin/api); args --port 9090 "
        "'--log level' (was --port 8080)");
}

TEST_CASE("template diff: env names added and removed, valueFrom, never a value") {
  json a = container("app", "api:1");
  a["env"] = {{{"name", "LOG_LEVEL"}, {"value", "info"}},
              {{"name", "OLD_FLAG"}, {"value", "s3cr3t-old-value"}},
              {{"name", "DB_PASS"},
               {"valueFrom", {{"secretKeyRef", {{"name", "db-v1"}, {"key", "password"}}}}}},
              {{"name", "API_TOKEN"}, {"value", "tok-aaaa-1111"}}};
  json b = container("app", "api:1");
  b["env"] = {{{"name", "LOG_LEVEL"}, {"value", "info"}},
              {{"name", "DB_HOST"}, {"value", "postgres.prod:5432"}},
              {{"name", "DB_PASS"},
               {"valueFrom", {{"secretKeyRef", {{"name", "db-v2"}, {"key", "password"}}}}}},
              {{"name", "API_TOKEN"}, {"value", "tok-bbbb-2222"}}};
  auto changes = diff_templates(spec_of({a}), spec_of({b}));
  const std::string text = all_text(changes);
  INFO(text);
  CHECK(text.find("env|app|OLD_FLAG|\n") != std::string::npos);
  CHECK(text.find("env|app||DB_HOST") != std::string::npos);
  CHECK(
      text.find("env|app|DB_PASS from secret db-v1/password|DB_PASS from secret db-v2/password") !=
      std::string::npos);
  CHECK(text.find("env|app|API_TOKEN|API_TOKEN (value changed)") != std::string::npos);
  CHECK(text.find("LOG_LEVEL") == std::string::npos);  // unchanged
  // Never a value, whatever changed.
  for (const char* value : {"info", "s3cr3t-old-value", "postgres.prod", "tok-aaaa", "tok-bbbb"})
    CHECK(text.find(value) == std::string::npos);
  const std::string words = rules::describe_changes(changes);
  CHECK(words.find("env DB_HOST added") != std::string::npos);
  CHECK(words.find("env OLD_FLAG removed") != std::string::npos);
}

TEST_CASE("template diff: ConfigMap and Secret references and resources") {
  json a = container("app", "api:1");
  a["envFrom"] = {{{"configMapRef", {{"name", "app-config-v1"}}}},
                  {{"secretRef", {{"name", "db"}}}}};
  a["resources"] = {{"limits", {{"memory", "256Mi"}, {"cpu", "1"}}},
                    {"requests", {{"memory", "128Mi"}}}};
  json b = container("app", "api:1");
  b["envFrom"] = {{{"configMapRef", {{"name", "app-config-v2"}}}},
                  {{"secretRef", {{"name", "db"}}}}};
  b["resources"] = {{"limits", {{"memory", "128Mi"}}},
                    {"requests", {{"memory", "128Mi"}, {"cpu", 2}}}};
  json va = {{{"name", "tls"}, {"secret", {{"secretName", "tls-old"}}}}};
  json vb = {{{"name", "tls"}, {"secret", {{"secretName", "tls-new"}}}},
             {{"name", "extra"}, {"configMap", {{"name", "extra"}}}}};
  auto changes = diff_templates(spec_of({a}, va), spec_of({b}, vb));
  const std::string text = all_text(changes);
  INFO(text);
  CHECK(text.find("configRef|app|configMap app-config-v1|configMap app-config-v2") !=
        std::string::npos);
  CHECK(text.find("configRef||secret tls-old|secret tls-new") != std::string::npos);
  CHECK(text.find("configRef|||configMap extra") != std::string::npos);
  CHECK(text.find("resources|app|limits.memory 256Mi|limits.memory 128Mi") != std::string::npos);
  CHECK(text.find("resources|app|limits.cpu 1|") != std::string::npos);
  CHECK(text.find("resources|app||requests.cpu 2") != std::string::npos);
  CHECK(text.find("secret db") == std::string::npos);  // unchanged
}

TEST_CASE("template diff: containers added and removed; identical templates differ in nothing") {
  auto same =
      diff_templates(spec_of({container("app", "a:1")}), spec_of({container("app", "a:1")}));
  CHECK(same.empty());
  auto changes = diff_templates(spec_of({container("app", "a:1"), container("old", "o:1")}),
                                spec_of({container("app", "a:1"), container("proxy", "envoy:1")}));
  REQUIRE(changes.size() == 2);
  CHECK(rules::describe_changes(changes) ==
        "container proxy added (image envoy:1); container old removed (image o:1)");
}

TEST_CASE("template spec: wrong types are skipped, a template without a spec is an error") {
  CHECK_FALSE(template_spec(json::array()).ok());
  CHECK_FALSE(template_spec(json{{"spec", "x"}}).ok());
  json c = {{"name", 5},
            {"image", nullptr},
            {"command", "not a list"},
            {"args", {1, "a"}},
            {"env", {{{"name", nullptr}}, 3, {{"name", "X"}, {"value", 7}}}},
            {"envFrom", {1, {{"configMapRef", "x"}}}},
            {"resources", {{"limits", {{"memory", json::object()}, {"cpu", 1e300}}}}}};
  auto s = template_spec(json{{"spec", {{"containers", {c, 1, nullptr}}, {"volumes", 3}}}});
  REQUIRE(s.ok());
  REQUIRE(s->containers.size() == 1);
  CHECK(s->containers[0].name.empty());
  CHECK(s->containers[0].args == std::vector<std::string>{"a"});
  CHECK(s->containers[0].env.count("X") == 1);
  CHECK(s->containers[0].resources.empty());
}

TEST_CASE("revisions: a Deployment's ReplicaSets, the window and the previous revision") {
  sim::PodTemplate old_t;
  old_t.ns = "payments";
  old_t.deployment = "api";
  old_t.rs_hash = "84b5f7c9d6";
  old_t.image = "api:1.9.0";
  sim::PodTemplate new_t = old_t;
  new_t.rs_hash = "5f6c7d8e9a";
  new_t.image = "api:1.9.1";
  new_t.env["DB_HOST"] = "postgres:5432";
  const std::int64_t t0 = 1'800'000'000;
  json list = {{"kind", "ReplicaSetList"},
               {"items",
                {sim::make_revision_replicaset(old_t, 4, 0, t0 - 86400),
                 sim::make_revision_replicaset(new_t, 5, 2, t0),
                 // Another deployment's and a broken item: ignored.
                 json{{"metadata", {{"name", "x"}}}}, 7}}};
  sim::PodTemplate other = old_t;
  other.deployment = "web";
  other.rs_hash = "aaaaaaaaaa";
  list["items"].push_back(sim::make_revision_replicaset(other, 9, 1, t0));
  auto revs = parse_revisions(parse::dump(list));
  REQUIRE(revs.ok());
  REQUIRE(revs->size() == 3);

  auto rc = rollout_change(*revs, "ReplicaSet", "api-5f6c7d8e9a", "api-5f6c7d8e9a", t0 + 90, 1800);
  REQUIRE(rc);
  CHECK(rc->number == 5);
  CHECK(rc->previous == 4);
  CHECK(rc->created == t0);
  CHECK(rules::describe_changes(rc->changes) ==
        "image api:1.9.1 (was api:1.9.0); env DB_HOST added");
  // Outside the window, before the rollout, or the old revision's pod: nothing.
  CHECK_FALSE(rollout_change(*revs, "ReplicaSet", "", "api-5f6c7d8e9a", t0 + 1801, 1800));
  CHECK_FALSE(rollout_change(*revs, "ReplicaSet", "", "api-5f6c7d8e9a", t0 - 1, 1800));
  CHECK_FALSE(rollout_change(*revs, "ReplicaSet", "", "api-84b5f7c9d6", t0, 1800));
  // The only revision of its deployment: nothing to compare with.
  CHECK_FALSE(rollout_change(*revs, "ReplicaSet", "", "web-aaaaaaaaaa", t0, 1800));
}

TEST_CASE("revisions: a StatefulSet's ControllerRevisions") {
  sim::PodTemplate t;
  t.ns = "data";
  t.image = "postgres:16.1";
  t.memory_limit = "1Gi";
  sim::PodTemplate t2 = t;
  t2.image = "postgres:16.2";
  t2.memory_limit = "512Mi";
  const std::int64_t t0 = 1'800'000'000;
  json list = {{"items",
                {sim::make_controller_revision(t, "StatefulSet", "db", "6d5c4b3a2", 1, t0 - 600),
                 sim::make_controller_revision(t2, "StatefulSet", "db", "7e6d5c4b3", 2, t0),
                 sim::make_controller_revision(t, "DaemonSet", "db", "1a2b3c4d5", 7, t0)}}};
  auto revs = parse_revisions(parse::dump(list));
  REQUIRE(revs.ok());
  REQUIRE(revs->size() == 3);
  auto rc = rollout_change(*revs, "StatefulSet", "db", "", t0 + 30, 1800);
  REQUIRE(rc);
  CHECK(rc->revision == "db-7e6d5c4b3");
  CHECK(rc->previous == 1);
  const std::string words = rules::describe_changes(rc->changes);
  CHECK(words.find("image postgres:16.2 (was postgres:16.1)") == 0);
  CHECK(words.find("resources limits.memory 512Mi (was limits.memory 1Gi)") != std::string::npos);
  // The DaemonSet of the same name has one revision only.
  CHECK_FALSE(rollout_change(*revs, "DaemonSet", "db", "", t0 + 30, 1800));
}

TEST_CASE("revisions: hostile list bodies are errors or skipped items, never exceptions") {
  CHECK_FALSE(parse_revisions("").ok());
  CHECK_FALSE(parse_revisions("{\"items\": 3}").ok());
  CHECK_FALSE(parse_revisions("[1,2]").ok());
  CHECK_FALSE(parse_revisions(std::string("{\"items\":[\xff\xfe]}")).ok());
  CHECK_FALSE(parse_revisions(std::string(100000, '[')).ok());
  auto skipped = parse_revisions(
      R"({"items":[null, {"metadata":null}, {"metadata":{"name":"a","annotations":{"deployment.kubernetes.io/revision":"99999999999999999999999"}}},
        {"metadata":{"name":"b","ownerReferences":[{"controller":true,"kind":"StatefulSet","name":"s"}]},"revision":1e300,"data":{"spec":{"template":{"spec":{}}}}},
        {"metadata":{"name":"c","ownerReferences":[{"controller":"yes","kind":"StatefulSet","name":"s"}]},"revision":2,"data":{"spec":{"template":{"spec":{}}}}},
        {"metadata":{"name":"d","ownerReferences":[{"controller":true,"kind":"StatefulSet","name":"s"}]},"revision":3,"data":{"spec":{"template":null}}}]})");
  REQUIRE(skipped.ok());
  CHECK(skipped->empty());
  // A huge list is bounded.
  json many = {{"items", json::array()}};
  sim::PodTemplate t;
  t.deployment = "api";
  for (int i = 0; i < kMaxItems + 20; ++i) {
    t.rs_hash = "h" + std::to_string(i);
    many["items"].push_back(sim::make_revision_replicaset(t, i + 1, 1, 1000));
  }
  auto bounded = parse_revisions(parse::dump(many));
  REQUIRE(bounded.ok());
  CHECK(bounded->size() == static_cast<std::size_t>(kMaxItems));
}

TEST_CASE(
    "node memory: the MemoryPressure condition; hostile bodies are errors, never exceptions") {
  auto m = parse_node_memory(parse::dump(sim::make_node("worker-1", true, 1'800'000'000)));
  REQUIRE(m.ok());
  CHECK(m->known);
  CHECK(m->memory_pressure == "True");
  CHECK(m->pressure_since == 1'800'000'000);
  CHECK(parse_node_memory(parse::dump(sim::make_node("worker-1", false, 5)))->memory_pressure ==
        "False");
  // No conditions (or of the wrong types): known, without pressure.
  for (
      const char* body :
      {R"({})", R"({"status":null})", R"({"status":{"conditions":"x"}})",
       R"({"status":{"conditions":[null,3,{"type":"MemoryPressure","status":7,"lastTransitionTime":99999999999999999999}]}})"}) {
    INFO(body);
    auto r = parse_node_memory(body);
    REQUIRE(r.ok());
    CHECK(r->memory_pressure.empty());
    CHECK(r->pressure_since == 0);
  }
  for (std::string body : {std::string(""), std::string("[1]"), std::string("\"x\""),
                           std::string("{\"status\":\xff}"), std::string(200000, '{')}) {
    CHECK_FALSE(parse_node_memory(body).ok());
  }
}
