// The simulated apiserver's route table: every path shape the handlers serve, and hostile paths
// (dot segments, encoded slashes, empty segments, huge paths and queries).
#include "sim/route.h"

#include <catch2/catch.hpp>

using namespace podmedic;
using namespace podmedic::sim;

TEST_CASE("route: the paths the simulator serves") {
  SECTION("version and discovery") {
    CHECK(parse_route("/version").kind == RouteKind::kVersion);
    auto api = parse_route("/api");
    CHECK(api.kind == RouteKind::kDiscovery);
    CHECK(api.prefix == "api");
    CHECK(api.group_version.empty());
    auto apis = parse_route("/apis");
    CHECK(apis.kind == RouteKind::kDiscovery);
    CHECK(apis.prefix == "apis");
    CHECK(apis.group_version.empty());
    auto v1 = parse_route("/api/v1");
    CHECK(v1.kind == RouteKind::kDiscovery);
    CHECK(v1.group_version == "v1");
    auto apps = parse_route("/apis/apps/v1");
    CHECK(apps.kind == RouteKind::kDiscovery);
    CHECK(apps.prefix == "apis");
    CHECK(apps.group_version == "apps/v1");
  }
  SECTION("collections, cluster-wide and namespaced") {
    auto pods = parse_route("/api/v1/pods?watch=1&resourceVersion=5");
    CHECK(pods.kind == RouteKind::kCollection);
    CHECK(pods.resource == Res::kPods);
    CHECK(pods.ns.empty());
    CHECK(pods.path == "/api/v1/pods");
    CHECK(pods.watch());
    CHECK(pods.param("resourceVersion") == "5");
    CHECK(pods.param("absent").empty());
    auto rs = parse_route("/apis/apps/v1/namespaces/shop/replicasets");
    CHECK(rs.kind == RouteKind::kCollection);
    CHECK(rs.resource == Res::kReplicaSets);
    CHECK(rs.ns == "shop");
    CHECK_FALSE(rs.watch());
    auto leases = parse_route("/apis/coordination.k8s.io/v1/namespaces/podmedic/leases");
    CHECK(leases.resource == Res::kLeases);
    CHECK(leases.group_version == "coordination.k8s.io/v1");
    auto nss = parse_route("/api/v1/namespaces");
    CHECK(nss.kind == RouteKind::kCollection);
    CHECK(nss.resource == Res::kNamespaces);
    CHECK(nss.ns.empty());
  }
  SECTION("objects: a namespaced one, and a Namespace by name") {
    auto pod = parse_route("/api/v1/namespaces/shop/pods/cart-0");
    CHECK(pod.kind == RouteKind::kObject);
    CHECK(pod.resource == Res::kPods);
    CHECK(pod.ns == "shop");
    CHECK(pod.name == "cart-0");
    auto ns = parse_route("/api/v1/namespaces/shop");
    CHECK(ns.kind == RouteKind::kObject);
    CHECK(ns.resource == Res::kNamespaces);
    CHECK(ns.ns.empty());
    CHECK(ns.name == "shop");
    // Namespaces are core objects: under apps/v1 the plural is unknown.
    auto apps_ns = parse_route("/apis/apps/v1/namespaces/shop");
    CHECK(apps_ns.kind == RouteKind::kObject);
    CHECK_FALSE(apps_ns.resource);
  }
  SECTION("pod logs with their query") {
    auto log = parse_route(
        "/api/v1/namespaces/shop/pods/cart-0/log?container=app&previous=true&tailLines=50");
    CHECK(log.kind == RouteKind::kSubresource);
    CHECK(log.resource == Res::kPods);
    CHECK(log.ns == "shop");
    CHECK(log.name == "cart-0");
    CHECK(log.subresource == "log");
    CHECK(log.param("container") == "app");
    CHECK(log.param("previous") == "true");
    CHECK(log.param("tailLines") == "50");
  }
  SECTION("what nothing serves") {
    for (const char* p : {"", "/", "/healthz", "/version/x", "/apis/apps", "/foo/api/v1/pods"}) {
      INFO(p);
      CHECK(parse_route(p).kind == RouteKind::kUnknown);
    }
    auto deep = parse_route("/api/v1/namespaces/shop/pods/cart-0/log/more");
    CHECK(deep.kind == RouteKind::kTooDeep);
    CHECK(deep.resource == Res::kPods);  // a write there is a 405, not "writes only leases"
    CHECK(deep.ns == "shop");
    auto unknown = parse_route("/api/v1/namespaces/shop/secrets");
    CHECK(unknown.kind == RouteKind::kCollection);
    CHECK_FALSE(unknown.resource);
    CHECK_FALSE(parse_route("/api/v2/pods").resource);
  }
}

TEST_CASE("route: query parameters are decoded as Go's url.ParseQuery decodes them") {
  auto r = parse_route("/api/v1/pods?labelSelector=app%3Dcart%2Ctier+in+(a)&&limit=&x&watch=true");
  CHECK(r.param("labelSelector") == "app=cart,tier in (a)");
  CHECK(r.query.count("limit") == 1);
  CHECK(r.param("limit").empty());
  CHECK(r.query.count("x") == 1);  // a key without '=' has the empty value
  CHECK(r.watch());
  CHECK(r.query.size() == 4);  // the empty pair between "&&" is no parameter
  // A bad escape drops its pair, the rest stays.
  auto bad = parse_route("/api/v1/pods?limit=%zz&resourceVersion=%4&continue=ok&%g1=2");
  CHECK(bad.query.size() == 1);
  CHECK(bad.param("continue") == "ok");
  // The last of a repeated key wins.
  CHECK(parse_route("/api/v1/pods?limit=1&limit=2").param("limit") == "2");
  // Invalid UTF-8 is passed on as bytes (handlers quote it into a Status, dumped safely).
  CHECK(parse_route("/api/v1/pods?resourceVersion=%FF%FE").param("resourceVersion") == "\xFF\xFE");
  // Only the first '?' splits; a '?' in the query is a character.
  CHECK(parse_route("/api/v1/pods?fieldSelector=a?b").param("fieldSelector") == "a?b");
  CHECK(query_unescape("a%2fb+c") == "a/b c");
  CHECK_FALSE(query_unescape("%"));
  CHECK_FALSE(query_unescape("%2"));
  CHECK_FALSE(query_unescape("%+1"));
}

TEST_CASE("route: hostile paths") {
  // Dot segments are names, never a walk up; encoded slashes stay inside their segment (never a
  // separator); empty segments are skipped.
  struct Row {
    const char* path;
    RouteKind kind;
    std::optional<Res> resource;
    const char* ns;
    const char* name;
  };
  for (const Row& row : {
           Row{"/api/v1/namespaces/../pods", RouteKind::kCollection, Res::kPods, "..", ""},
           Row{"/api/v1/namespaces/shop/pods/..", RouteKind::kObject, Res::kPods, "shop", ".."},
           Row{"/api/./v1/pods", RouteKind::kObject, std::nullopt, "", "pods"},  // group "."
           Row{"/../version", RouteKind::kUnknown, std::nullopt, "", ""},
           Row{"/api/v1/namespaces/shop%2Fpods/pods/a%2F..%2Fb", RouteKind::kObject, Res::kPods,
               "shop%2Fpods", "a%2F..%2Fb"},
           Row{"/api%2Fv1%2Fpods", RouteKind::kUnknown, std::nullopt, "", ""},
           Row{"//api///v1//namespaces//shop//pods//cart-0//", RouteKind::kObject, Res::kPods,
               "shop", "cart-0"},
           Row{"///", RouteKind::kUnknown, std::nullopt, "", ""},
           Row{"?watch=1", RouteKind::kUnknown, std::nullopt, "", ""},
       }) {
    INFO(row.path);
    auto r = parse_route(row.path);
    CHECK(r.kind == row.kind);
    CHECK(r.resource == row.resource);
    CHECK(r.ns == row.ns);
    CHECK(r.name == row.name);
  }
  CHECK(parse_route("/api/./v1/pods").group_version == ".");
  // The path as sent, for fault matching.
  CHECK(parse_route("//api//v1//pods?watch=1").path == "//api//v1//pods");
}

TEST_CASE("route: huge paths: bounded work, a 404 shape") {
  std::string deep = "/api/v1/namespaces/shop/pods";
  for (int i = 0; i < 100'000; ++i) deep += "/x";
  auto r = parse_route(deep);
  CHECK(r.kind == RouteKind::kTooDeep);
  CHECK(r.ns == "shop");
  std::string junk(1 << 20, 'a');
  CHECK(parse_route("/" + junk).kind == RouteKind::kUnknown);
  auto long_name = parse_route("/api/v1/namespaces/shop/pods/" + junk);
  CHECK(long_name.kind == RouteKind::kObject);
  CHECK(long_name.name.size() == junk.size());
  std::string many = "/api/v1/pods?";
  for (int i = 0; i < 10'000; ++i) many += "k" + std::to_string(i % 100) + "=v&";
  CHECK(parse_route(many).query.size() == 100);
}

TEST_CASE("route: no path at all, only slashes and separators") {
  for (const char* p : {"?", "&", "/?&&=", "/%", "/api?%"}) {
    INFO(p);
    auto r = parse_route(p);
    CHECK(r.kind != RouteKind::kCollection);
    CHECK_FALSE(r.resource);
  }
}
