// Same inputs → byte-identical output, whatever the input order; versions follow content.
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

constexpr char kNode[] = "sidecar~10.0.0.5~c.default~default.svc.cluster.local";

std::vector<std::string> Documents() {
  return {
      ServiceYaml("reviews", "default", {"http:9080"}, "10.96.0.10"),
      ServiceYaml("ratings", "default", {"http:9080", "tcp:3306"}, "10.96.0.11"),
      ServiceYaml("web", "shop", {"http:80"}),
      PodYaml("r1", "default", "10.0.1.1", {{"app", "reviews"}, {"version", "v1"}}),
      PodYaml("r2", "default", "10.0.1.2", {{"app", "reviews"}, {"version", "v2"}}),
      PodYaml("r3", "default", "10.0.1.3", {{"app", "reviews"}, {"version", "v2"}}),
      PodYaml("t1", "default", "10.0.2.1", {{"app", "ratings"}, {"version", "v1"}}),
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n  namespace: default\n"
      "spec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v2\n    labels: {version: v2}\n---\n",
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: default\n"
      "spec:\n  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        end-user: {exact: jason}\n"
      "    route:\n    - destination: {host: reviews, subset: v2}\n  - route:\n    - destination: {host: reviews, subset: v1}\n"
      "      weight: 90\n    - destination: {host: reviews, subset: v2}\n      weight: 10\n---\n",
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ratings\n  namespace: default\n"
      "spec:\n  hosts: [ratings]\n  http:\n  - fault:\n      delay:\n        fixedDelay: 1s\n        percentage: {value: 5}\n"
      "    route:\n    - destination: {host: ratings}\n---\n",
  };
}

std::string Join(const std::vector<std::string>& docs) {
  std::string out;
  for (const auto& d : docs) out += d;
  return out;
}

// Everything the compiler outputs, as one string: resources, versions, warnings.
std::string Dump(const XdsResources& r) {
  std::string out;
  for (const auto& x : r.listeners) out += x.version + ToJson(x.resource);
  for (const auto& x : r.routes) out += x.version + ToJson(x.resource);
  for (const auto& x : r.clusters) out += x.version + ToJson(x.resource);
  for (const auto& x : r.endpoints) out += x.version + ToJson(x.resource);
  for (const auto& w : r.warnings) out += w;
  return out + r.ListenersVersion() + r.RoutesVersion() + r.ClustersVersion() + r.EndpointsVersion();
}

TEST(DeterminismTest, CompilingTwiceIsByteIdentical) {
  auto config = ParseYaml(Join(Documents()));
  auto a = CompileFor(config, kNode);
  auto b = CompileFor(config, kNode);
  EXPECT_EQ(Dump(a), Dump(b));
  EXPECT_FALSE(a.routes.empty());
}

TEST(DeterminismTest, InputOrderDoesNotMatter) {
  auto docs = Documents();
  const std::string expected = Dump(CompileFor(ParseYaml(Join(docs)), kNode));
  std::mt19937 rng(42);
  for (int i = 0; i < 5; ++i) {
    std::shuffle(docs.begin(), docs.end(), rng);
    EXPECT_EQ(Dump(CompileFor(ParseYaml(Join(docs)), kNode)), expected) << "shuffle " << i;
  }
}

TEST(DeterminismTest, ResourcesAreSortedByName) {
  auto r = CompileFor(ParseYaml(Join(Documents())), kNode);
  auto sorted = [](const auto& items, auto name) {
    return std::is_sorted(items.begin(), items.end(), [&](const auto& x, const auto& y) { return name(x) < name(y); });
  };
  EXPECT_TRUE(sorted(r.listeners, [](const auto& x) { return x.resource.name(); }));
  EXPECT_TRUE(sorted(r.routes, [](const auto& x) { return x.resource.name(); }));
  EXPECT_TRUE(sorted(r.clusters, [](const auto& x) { return x.resource.name(); }));
  EXPECT_TRUE(sorted(r.endpoints, [](const auto& x) { return x.resource.cluster_name(); }));
}

TEST(DeterminismTest, VersionsChangeExactlyWhenContentChanges) {
  auto docs = Documents();
  auto before = CompileFor(ParseYaml(Join(docs)), kNode);
  // Change the reviews VirtualService's weights only.
  std::string& vs = docs[8];
  vs.replace(vs.find("weight: 90"), 10, "weight: 80");
  vs.replace(vs.find("weight: 10"), 10, "weight: 20");
  auto after = CompileFor(ParseYaml(Join(docs)), kNode);
  EXPECT_NE(before.RoutesVersion(), after.RoutesVersion());
  EXPECT_EQ(before.ClustersVersion(), after.ClustersVersion());
  EXPECT_EQ(before.EndpointsVersion(), after.EndpointsVersion());
  EXPECT_EQ(before.ListenersVersion(), after.ListenersVersion());
  ASSERT_EQ(before.routes.size(), after.routes.size());
  for (size_t i = 0; i < before.routes.size(); ++i) {
    bool same_content = ToJson(before.routes[i].resource) == ToJson(after.routes[i].resource);
    EXPECT_EQ(same_content, before.routes[i].version == after.routes[i].version) << before.routes[i].resource.name();
  }
  // Adding an endpoint changes that CLA's version and no cluster's.
  docs.push_back(PodYaml("r4", "default", "10.0.1.4", {{"app", "reviews"}, {"version", "v1"}}));
  auto more = CompileFor(ParseYaml(Join(docs)), kNode);
  EXPECT_EQ(after.ClustersVersion(), more.ClustersVersion());
  EXPECT_NE(after.EndpointsVersion(), more.EndpointsVersion());
  for (size_t i = 0; i < more.endpoints.size(); ++i) {
    const std::string& name = more.endpoints[i].resource.cluster_name();
    bool changed = name == "outbound|9080|v1|reviews.default.svc.cluster.local" ||
                   name == "outbound|9080||reviews.default.svc.cluster.local";
    EXPECT_EQ(changed, more.endpoints[i].version != after.endpoints[i].version) << name;
  }
}

}  // namespace
}  // namespace cmesh::compiler::testing
