#include <catch2/catch.hpp>

#include "core/text.h"
#include "core/units.h"
#include "k8s/decode.h"
#include "tests/support.h"

using namespace podmedic;
using namespace podmedic::k8s;
using test::Padded;

TEST_CASE("a pod watch line decodes into the compact view") {
  Interner in;
  Decoder d(in);
  Padded line(test::read_fixture("pods/oom_behind_crashloop.json"));
  WatchHeader hdr;
  PodView pod;
  auto r = d.watch_pod(line.view(), line.capacity(), hdr, pod);
  REQUIRE(r.ok());
  CHECK(hdr.type == WatchType::kModified);
  CHECK(hdr.resource_version == "48213");
  CHECK(in.view(pod.ns) == "shop");
  CHECK(pod.name == "cart-7d9f8b6c5d-x2x9q");
  CHECK(pod.uid == "0b4c1f43-6f1e-4b7e-9a55-3c7f2d9e8a10");
  CHECK(in.view(pod.phase) == "Running");
  CHECK(in.view(pod.owner_kind) == "ReplicaSet");
  CHECK(in.view(pod.owner_name) == "cart-7d9f8b6c5d");
  CHECK(in.view(pod.template_hash) == "7d9f8b6c5d");
  CHECK(in.view(pod.node) == "worker-3");
  CHECK_FALSE(pod.ready);
  CHECK(pod.created == parse_rfc3339("2026-11-20T09:12:44Z"));
  REQUIRE(pod.containers.size() == 3);
  // Init containers come first.
  const auto& init = pod.containers[0];
  CHECK(init.init);
  CHECK(in.view(init.name) == "migrate");
  CHECK(init.state.kind == ContainerState::kTerminated);
  CHECK(in.view(init.state.reason) == "Completed");
  const auto& app = pod.containers[1];
  CHECK(in.view(app.name) == "app");
  CHECK(in.view(app.image) == "registry.example.com/shop/cart:2.3.1");
  CHECK(in.view(app.mem_limit) == "256Mi");
  CHECK(in.view(app.mem_request) == "128Mi");
  CHECK(in.view(app.cpu_request) == "100m");
  CHECK(app.restart_count == 5);
  CHECK(app.state.kind == ContainerState::kWaiting);
  CHECK(in.view(app.state.reason) == "CrashLoopBackOff");
  CHECK(app.message.find("back-off 2m40s") == 0);
  CHECK(app.last.kind == ContainerState::kTerminated);
  CHECK(in.view(app.last.reason) == "OOMKilled");
  CHECK(app.last.exit_code == 137);
  CHECK(app.last.finished_at == parse_rfc3339("2026-11-20T09:20:00Z"));
  const auto& proxy = pod.containers[2];
  CHECK(in.view(proxy.name) == "istio-proxy");
  CHECK(proxy.ready);
  CHECK(proxy.state.kind == ContainerState::kRunning);
  CHECK(in.view(proxy.mem_limit) == "1Gi");
}

TEST_CASE("key order does not matter: status before spec") {
  Interner in;
  Decoder d(in);
  Padded line(
      R"J({"object":{"status":{"containerStatuses":[{"name":"app","restartCount":2,"state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"x:1\""}}}]},"spec":{"containers":[{"name":"app","image":"x:1"}]},"metadata":{"namespace":"a","name":"p"}},"type":"ADDED"})J");
  WatchHeader hdr;
  PodView pod;
  REQUIRE(d.watch_pod(line.view(), line.capacity(), hdr, pod).ok());
  CHECK(hdr.type == WatchType::kAdded);
  REQUIRE(pod.containers.size() == 1);
  CHECK(in.view(pod.containers[0].image) == "x:1");
  CHECK(pod.containers[0].restart_count == 2);
  CHECK(in.view(pod.containers[0].state.reason) == "ImagePullBackOff");
}

TEST_CASE("bookmarks the initial-events-end mark and ERROR events") {
  Interner in;
  Decoder d(in);
  WatchHeader hdr;
  PodView pod;
  Padded bm(
      R"J({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12746","annotations":{"k8s.io/initial-events-end":"true"}}}})J");
  REQUIRE(d.watch_pod(bm.view(), bm.capacity(), hdr, pod).ok());
  CHECK(hdr.type == WatchType::kBookmark);
  CHECK(hdr.resource_version == "12746");
  CHECK(hdr.initial_events_end);

  Padded err(
      R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1000 (5000)","reason":"Expired","code":410}})J");
  REQUIRE(d.watch_pod(err.view(), err.capacity(), hdr, pod).ok());
  CHECK(hdr.type == WatchType::kError);
  CHECK(hdr.status.code == 410);
  CHECK(hdr.status.reason == "Expired");
  CHECK(hdr.status.message == "too old resource version: 1000 (5000)");

  Padded odd(R"J({"type":"SOMETHING_NEW","object":{"metadata":{"resourceVersion":"9"}}})J");
  REQUIRE(d.watch_pod(odd.view(), odd.capacity(), hdr, pod).ok());
  CHECK(hdr.type == WatchType::kUnknown);
  CHECK(hdr.type_name == "SOMETHING_NEW");

  // An unknown type is kept for the log, bounded to 32 bytes without splitting a character (a
  // byte cut would end inside the 16th "é").
  std::string long_type = "A";
  for (int i = 0; i < 20; ++i) long_type += "\xC3\xA9";
  Padded wide(R"J({"type":")J" + long_type +
              R"J(","object":{"metadata":{"resourceVersion":"9"}}})J");
  REQUIRE(d.watch_pod(wide.view(), wide.capacity(), hdr, pod).ok());
  CHECK(hdr.type == WatchType::kUnknown);
  CHECK(hdr.type_name == long_type.substr(0, 31));
  CHECK(text::is_valid_utf8(hdr.type_name));
}

TEST_CASE("malformed input is an error value never an exception") {
  Interner in;
  Decoder d(in);
  WatchHeader hdr;
  PodView pod;
  for (std::string bad :
       {std::string("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":tru"),
        std::string("not json at all"), std::string("[]"), std::string("{}"),
        std::string("{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}"),
        std::string("{\"type\":\"ADDED\"}"), std::string("\xff\xfe{}")}) {
    Padded p(bad);
    INFO(bad);
    CHECK_FALSE(d.watch_pod(p.view(), p.capacity(), hdr, pod).ok());
  }
  Padded unpadded_ok("{}");
  CHECK_FALSE(d.watch_pod(unpadded_ok.view(), 2, hdr, pod).ok());
}

TEST_CASE("a pod list decodes every item and its metadata") {
  Interner in;
  Decoder d(in);
  Padded body(
      R"J({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10245","continue":"abc"},"items":[{"metadata":{"name":"a","namespace":"n","resourceVersion":"1"}},{"metadata":{"name":"b","namespace":"n","resourceVersion":"2"}}]})J");
  ListMeta meta;
  std::vector<std::string> names;
  REQUIRE(d.pod_list(body.view(), body.capacity(), meta, [&](PodView& p) {
             names.push_back(p.name);
           }).ok());
  CHECK(meta.resource_version == "10245");
  CHECK(meta.continue_token == "abc");
  CHECK(names == std::vector<std::string>{"a", "b"});
}

TEST_CASE("events of both styles decode with the right ordering time") {
  Interner in;
  Decoder d(in);
  Padded body(
      R"J({"kind":"EventList","apiVersion":"v1","metadata":{"resourceVersion":"77"},"items":[
    {"metadata":{"name":"web-1.17a","namespace":"prod","creationTimestamp":"2026-01-01T00:00:00Z"},"involvedObject":{"kind":"Pod","namespace":"prod","name":"web-1","uid":"u1","fieldPath":"spec.containers{app}"},"reason":"BackOff","message":"Back-off restarting failed container app in pod web-1_prod(u1)","type":"Warning","count":7,"firstTimestamp":"2026-01-01T00:00:00Z","lastTimestamp":"2026-01-01T00:10:00Z","eventTime":null,"source":{"component":"kubelet","host":"n1"}},
    {"metadata":{"name":"web-1.17b","namespace":"prod","creationTimestamp":"2026-01-01T00:00:00Z"},"involvedObject":{"kind":"Pod","namespace":"prod","name":"web-1"},"reason":"FailedScheduling","message":"0/3 nodes are available","type":"Warning","firstTimestamp":null,"lastTimestamp":null,"eventTime":"2026-01-01T00:01:00.123456Z","series":{"count":4,"lastObservedTime":"2026-01-01T00:05:00.654321Z"},"reportingComponent":"default-scheduler"}]})J");
  ListMeta meta;
  std::vector<EventView> events;
  REQUIRE(d.event_list(body.view(), body.capacity(), meta, [&](EventView& e) {
             events.push_back(e);
           }).ok());
  REQUIRE(events.size() == 2);
  CHECK(events[0].count == 7);
  CHECK(events[0].last_seen == parse_rfc3339("2026-01-01T00:10:00Z"));
  CHECK(in.view(events[0].source) == "kubelet");
  CHECK(events[0].field_path == "spec.containers{app}");
  CHECK(events[1].count == 4);
  CHECK(events[1].last_seen == parse_rfc3339("2026-01-01T00:05:00Z"));
  CHECK(in.view(events[1].source) == "default-scheduler");
}

TEST_CASE("Status bodies: JSON or plain text") {
  auto st = parse_status(
      403,
      R"J({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"x\" cannot list resource \"pods\"","reason":"Forbidden","details":{"kind":"pods"},"code":403})J");
  CHECK(st.code == 403);
  CHECK(st.reason == "Forbidden");
  CHECK(st.message.find("pods is forbidden") == 0);
  auto t = parse_status(429, "Too many requests, please try again later.\n");
  CHECK(t.code == 429);
  CHECK(t.reason == "TooManyRequests");
  CHECK(t.message == "Too many requests, please try again later.");
  auto ra = parse_status(
      504,
      R"J({"kind":"Status","code":504,"reason":"Timeout","message":"Timeout: Too large resource version: 9, current: 5","details":{"retryAfterSeconds":1}})J");
  CHECK(ra.retry_after_seconds == 1);
}

TEST_CASE("managedFields is cut out when it ends metadata, as the API server writes it",
          "[managedFields]") {
  // Go's order: managedFields is the last member of metadata, then "spec". The cut line must
  // decode exactly like the line without managedFields.
  const std::string meta_head =
      R"J({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"p","namespace":"a","resourceVersion":"7","ownerReferences":[{"kind":"ReplicaSet","name":"rs","controller":true}])J";
  const std::string managed =
      R"J(,"managedFields":[{"manager":"kubelet","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}},"f:containerStatuses":{}}},"subresource":"status"},{"manager":"x]},\"spec\":{","fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{}}}}}])J";
  const std::string rest =
      R"J(},"spec":{"nodeName":"n1","containers":[{"name":"app","image":"x:1"}]},"status":{"phase":"Running","containerStatuses":[{"name":"app","restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}})J";
  Interner in;
  Decoder d(in);
  auto decode = [&](const std::string& text, PodView& pod, WatchHeader& hdr) {
    Padded line(text);
    return d.watch_pod(line.view(), line.capacity(), hdr, pod).ok();
  };
  PodView with, without;
  WatchHeader h1, h2;
  REQUIRE(decode(meta_head + managed + rest, with, h1));
  REQUIRE(decode(meta_head + rest, without, h2));
  CHECK(h1.type == WatchType::kModified);
  CHECK(h1.resource_version == "7");
  CHECK(h2.resource_version == "7");
  for (const PodView* p : {&with, &without}) {
    CHECK(p->name == "p");
    CHECK(in.view(p->ns) == "a");
    CHECK(in.view(p->owner_name) == "rs");
    CHECK(in.view(p->node) == "n1");
    CHECK(in.view(p->phase) == "Running");
    REQUIRE(p->containers.size() == 1);
    CHECK(in.view(p->containers[0].image) == "x:1");
    CHECK(p->containers[0].restart_count == 4);
    CHECK(in.view(p->containers[0].state.reason) == "CrashLoopBackOff");
  }
}

TEST_CASE("a managedFields cut that is not the pod falls back to the whole line",
          "[managedFields]") {
  // A "spec" key inside managedFields: the cut ends there and leaves broken JSON, so the decoder
  // must read the whole line and find the real spec.
  Interner in;
  Decoder d(in);
  Padded line(
      R"J({"type":"ADDED","object":{"metadata":{"namespace":"a","name":"p","managedFields":[{"a":{"b":[]},"spec":{"nodeName":"fake"}}]},"spec":{"nodeName":"real"}}})J");
  WatchHeader hdr;
  PodView pod;
  REQUIRE(d.watch_pod(line.view(), line.capacity(), hdr, pod).ok());
  CHECK(in.view(pod.node) == "real");
  CHECK(pod.name == "p");
  // Not enough padding: never cut, never read past the end; an error value as before.
  Padded ok_line(
      R"J({"type":"ADDED","object":{"metadata":{"namespace":"a","name":"p","managedFields":[]},"spec":{}}})J");
  CHECK_FALSE(d.watch_pod(ok_line.view(), ok_line.view().size(), hdr, pod).ok());
}
