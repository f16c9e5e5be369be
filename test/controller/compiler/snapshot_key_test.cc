// Proxies with equal snapshot keys get identical output; keys separate what must differ.
#include <gtest/gtest.h>

#include "cmesh/compiler/snapshot_key.h"
#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

std::string Config() {
  return ServiceYaml("reviews", "default", {"http:9080"}) + ServiceYaml("productpage", "default", {"http:9080"}) +
         "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: default\n"
         "spec:\n  hosts: [reviews]\n  http:\n  - match:\n    - sourceLabels: {version: v1}\n    route:\n"
         "    - destination: {host: reviews, subset: v2}\n  - route:\n    - destination: {host: reviews}\n---\n";
}

struct Keyed {
  std::string key;
  std::string output;
};

Keyed CompileKeyed(const model::ConfigSet& config, const std::string& id, const model::Labels& labels) {
  std::string error;
  auto node = ParseNodeId(id, &error);
  node->labels = labels;
  auto index = BuildIndex(std::make_shared<model::ConfigSet>(config), MeshOptions{});
  auto r = Compile(*index, *node, MeshOptions{});
  std::string out;
  for (const auto& x : r.routes) out += ToJson(x.resource);
  for (const auto& x : r.clusters) out += ToJson(x.resource);
  for (const auto& x : r.listeners) out += ToJson(x.resource);
  return {ProxySnapshotKey(*index, *node), out};
}

TEST(SnapshotKeyTest, SameNamespaceAndRelevantLabelsShareAKey) {
  auto config = ParseYaml(Config());
  auto a = CompileKeyed(config, "sidecar~10.0.0.1~pp-1.default~default.svc.cluster.local", {{"app", "productpage"}, {"version", "v1"}, {"pod-template-hash", "abc"}});
  auto b = CompileKeyed(config, "sidecar~10.0.0.2~pp-2.default~default.svc.cluster.local", {{"app", "productpage"}, {"version", "v1"}, {"pod-template-hash", "xyz"}});
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.key, "ns=default;labels=app=productpage,version=v1;ports=");
}

TEST(SnapshotKeyTest, RelevantDifferencesGiveDifferentKeys) {
  auto config = ParseYaml(Config());
  auto v1 = CompileKeyed(config, "sidecar~10.0.0.1~pp-1.default~default.svc.cluster.local", {{"app", "productpage"}, {"version", "v1"}});
  auto v2 = CompileKeyed(config, "sidecar~10.0.0.2~pp-2.default~default.svc.cluster.local", {{"app", "productpage"}, {"version", "v2"}});
  auto other_ns = CompileKeyed(config, "sidecar~10.0.0.3~pp-3.other~other.svc.cluster.local", {{"app", "productpage"}, {"version", "v1"}});
  EXPECT_NE(v1.key, v2.key);
  EXPECT_NE(v1.output, v2.output);  // sourceLabels version=v1 routes differently
  EXPECT_NE(v1.key, other_ns.key);
}

TEST(SnapshotKeyTest, AddressFamilySeparatesKeysWhenDnsClustersDependOnIt) {
  // An ExternalName service's DNS cluster resolves in the proxy's own address family.
  auto config = ParseYaml(Config() +
                          "apiVersion: v1\nkind: Service\nmetadata:\n  name: ext\n  namespace: default\nspec:\n"
                          "  type: ExternalName\n  externalName: api.example.com\n  ports:\n  - name: http\n"
                          "    port: 80\n---\n");
  const model::Labels labels = {{"app", "productpage"}, {"version", "v1"}};
  auto v4 = CompileKeyed(config, "sidecar~10.0.0.1~pp-1.default~default.svc.cluster.local", labels);
  auto v4b = CompileKeyed(config, "sidecar~10.0.0.9~pp-9.default~default.svc.cluster.local", labels);
  auto v6 = CompileKeyed(config, "sidecar~fd00::1~pp-2.default~default.svc.cluster.local", labels);
  EXPECT_EQ(v4.key, v4b.key);
  EXPECT_EQ(v4.output, v4b.output);
  EXPECT_NE(v4.output, v6.output);
  EXPECT_NE(v4.key, v6.key);
}

}  // namespace
}  // namespace cmesh::compiler::testing
