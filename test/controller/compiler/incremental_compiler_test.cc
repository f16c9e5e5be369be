// IncrementalCompiler must always equal a full compilation of the same config.
#include <gtest/gtest.h>

#include "cmesh/compiler/incremental_compiler.h"
#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

constexpr char kNode[] = "sidecar~10.0.0.5~c.default~default.svc.cluster.local";

std::string Dump(const XdsResources& r) {
  std::string out;
  for (const auto& x : r.listeners) out += x.version + ToJson(x.resource);
  for (const auto& x : r.routes) out += x.version + ToJson(x.resource);
  for (const auto& x : r.clusters) out += x.version + ToJson(x.resource);
  for (const auto& x : r.endpoints) out += x.version + ToJson(x.resource);
  for (const auto& w : r.warnings) out += w + "\n";
  return out;
}

std::string Vs(const std::string& name, const std::string& host, const std::string& subset) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: " + name +
         "\n  namespace: default\nspec:\n  hosts: [" + host + "]\n  http:\n  - route:\n    - destination: {host: " + host +
         ", subset: " + subset + "}\n---\n";
}

std::string Base() {
  std::string y;
  for (const char* s : {"a", "b", "c"}) {
    y += ServiceYaml(s, "default", {"http:80"});
    y += PodYaml(std::string(s) + "-1", "default", std::string("10.0.0.") + (s[0] == 'a' ? "1" : s[0] == 'b' ? "2" : "3"),
                 {{"app", s}, {"version", "v1"}});
    y += "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: " + std::string(s) +
         "\n  namespace: default\nspec:\n  host: " + s + "\n  subsets:\n  - name: v1\n    labels: {version: v1}\n"
         "  - name: v2\n    labels: {version: v2}\n---\n";
  }
  return y;
}

ProxyNode Node() {
  std::string error;
  return *ParseNodeId(kNode, &error);
}

XdsResources Full(const model::ConfigSet& config) {
  auto index = BuildIndex(std::make_shared<model::ConfigSet>(config), MeshOptions{});
  return Compile(*index, Node(), MeshOptions{});
}

TEST(IncrementalCompilerTest, MatchesFullCompilationThroughChanges) {
  auto config = ParseYaml(Base() + Vs("a", "a", "v1") + Vs("b", "b", "v1"));
  IncrementalCompiler ic;
  ic.Update(std::make_shared<model::ConfigSet>(config));
  XdsResources out;
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(config)));
  const std::string clusters_before = out.ClustersVersion();

  // One VirtualService changes.
  auto changed = ParseYaml(Vs("a", "a", "v2")).virtual_services.at(0);
  ic.UpsertVirtualService(changed);
  ic.CompileInto(Node(), &out);
  auto expected_config = ParseYaml(Base() + Vs("a", "a", "v2") + Vs("b", "b", "v1"));
  EXPECT_EQ(Dump(out), Dump(Full(expected_config)));
  EXPECT_EQ(out.ClustersVersion(), clusters_before);
  const auto* vh = FindVirtualHost(*FindRoute(out, "80"), "a.default.svc.cluster.local:80");
  EXPECT_EQ(vh->routes(0).route().cluster(), "outbound|80|v2|a.default.svc.cluster.local");

  // A new one, then a removal.
  ic.UpsertVirtualService(ParseYaml(Vs("c", "c", "v2")).virtual_services.at(0));
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(ParseYaml(Base() + Vs("a", "a", "v2") + Vs("b", "b", "v1") + Vs("c", "c", "v2")))));
  EXPECT_TRUE(ic.RemoveVirtualService("default", "b"));
  EXPECT_FALSE(ic.RemoveVirtualService("default", "nope"));
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(ParseYaml(Base() + Vs("a", "a", "v2") + Vs("c", "c", "v2")))));

  // The by-value API gives the same.
  EXPECT_EQ(Dump(ic.Compile(Node())), Dump(out));
}

TEST(IncrementalCompilerTest, WholeConfigUpdates) {
  IncrementalCompiler ic;
  auto first = ParseYaml(Base() + Vs("a", "a", "v1"));
  ic.Update(std::make_shared<model::ConfigSet>(first));
  XdsResources out;
  ic.CompileInto(Node(), &out);
  // Endpoints change (a new pod) and a DestinationRule disappears.
  auto second = ParseYaml(Base() + Vs("a", "a", "v1") + PodYaml("a-2", "default", "10.0.0.9", {{"app", "a"}, {"version", "v2"}}));
  second.destination_rules.erase(second.destination_rules.begin());
  ic.Update(std::make_shared<model::ConfigSet>(second));
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(second)));
  EXPECT_EQ(FindCluster(out, "outbound|80|v1|a.default.svc.cluster.local"), nullptr);
}

TEST(IncrementalCompilerTest, ContentHashesLetUnchangedObjectsBeReused) {
  auto config = ParseYaml(Base() + Vs("a", "a", "v1"));
  uint64_t h = 1;
  for (auto& s : config.services) s.origin.content_hash = h++;
  for (auto& p : config.pods) p.origin.content_hash = h++;
  for (auto& d : config.destination_rules) d.origin.content_hash = h++;
  for (auto& v : config.virtual_services) v.origin.content_hash = h++;
  IncrementalCompiler ic;
  ic.Update(std::make_shared<model::ConfigSet>(config));
  const auto services_before = ic.index();
  XdsResources out;
  ic.CompileInto(Node(), &out);
  ic.Update(std::make_shared<model::ConfigSet>(config));
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(config)));
  // A changed hash is a changed object: the rule's new content is used.
  auto changed = config;
  changed.destination_rules[0].subsets.pop_back();
  changed.destination_rules[0].origin.content_hash = 999;
  ic.Update(std::make_shared<model::ConfigSet>(changed));
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(changed)));
}

TEST(IncrementalCompilerTest, DeduplicatedDomainsAndWarningsSurviveIncrementalChanges) {
  // Two services sharing a cluster IP (domains de-duplicated) and two VirtualServices claiming
  // one host (a warning): the incremental paths must still equal a full compilation.
  const std::string base = ServiceYaml("x", "default", {"http:80"}, "10.96.9.9") +
                           ServiceYaml("y", "default", {"http:80"}, "10.96.9.9") + Vs("a1", "x", "v1") +
                           Vs("a2", "x", "v2");
  IncrementalCompiler ic;
  ic.Update(std::make_shared<model::ConfigSet>(ParseYaml(base + Vs("y", "y", "v1"))));
  XdsResources out;
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(ParseYaml(base + Vs("y", "y", "v1")))));
  ic.UpsertVirtualService(ParseYaml(Vs("y", "y", "v2")).virtual_services.at(0));
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(ParseYaml(base + Vs("y", "y", "v2")))));
  EXPECT_FALSE(out.warnings.empty());
}

// Every field added to the translation must be an input of the cache keys: changing only it
// through the incremental compiler changes the output, which still equals a full compilation.
TEST(IncrementalCompilerTest, NewTranslatedFieldsAreCacheInputs) {
  auto config_with = [](const std::string& warmup, const std::string& idle) {
    return ParseYaml(ServiceYaml("a", "default", {"http:80"}) + ServiceYaml("db", "default", {"tcp:5432"}, "10.96.0.30") +
                     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: a\n"
                     "  namespace: default\nspec:\n  host: a\n  trafficPolicy:\n    loadBalancer:\n"
                     "      warmup: {duration: " + warmup + "}\n---\n"
                     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: db\n"
                     "  namespace: default\nspec:\n  host: db\n  trafficPolicy:\n    connectionPool:\n"
                     "      tcp: {idleTimeout: " + idle + "}\n---\n");
  };
  IncrementalCompiler ic;
  ic.Update(std::make_shared<model::ConfigSet>(config_with("10s", "30s")));
  XdsResources out;
  ic.CompileInto(Node(), &out);
  const std::string before = Dump(out);
  auto warmup_changed = config_with("20s", "30s");
  ic.Update(std::make_shared<model::ConfigSet>(warmup_changed));
  ic.CompileInto(Node(), &out);
  EXPECT_NE(Dump(out), before);
  EXPECT_EQ(FindCluster(out, "outbound|80||a.default.svc.cluster.local")
                ->round_robin_lb_config()
                .slow_start_config()
                .slow_start_window()
                .seconds(),
            20);
  EXPECT_EQ(Dump(out), Dump(Full(warmup_changed)));
  auto idle_changed = config_with("20s", "45s");
  ic.Update(std::make_shared<model::ConfigSet>(idle_changed));
  ic.CompileInto(Node(), &out);
  EXPECT_EQ(Dump(out), Dump(Full(idle_changed)));
  EXPECT_NE(Dump(out).find("45s"), std::string::npos);  // cluster options and tcp_proxy
  EXPECT_EQ(Dump(out).find("30s"), std::string::npos);

  // VirtualService fields: retryRemoteLocalities and derivePort.
  auto vs = [](const std::string& body) {
    return ParseYaml("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: a\n"
                     "  namespace: default\nspec:\n  hosts: [a]\n  http:\n" + body + "---\n")
        .virtual_services.at(0);
  };
  const std::string route = "    route:\n    - destination: {host: a}\n";
  ic.UpsertVirtualService(vs("  - retries: {attempts: 2}\n" + route));
  ic.CompileInto(Node(), &out);
  const auto* vh = FindVirtualHost(*FindRoute(out, "80"), "a.default.svc.cluster.local:80");
  EXPECT_FALSE(vh->routes(0).route().retry_policy().has_retry_priority());
  ic.UpsertVirtualService(vs("  - retries: {attempts: 2, retryRemoteLocalities: true}\n" + route));
  ic.CompileInto(Node(), &out);
  vh = FindVirtualHost(*FindRoute(out, "80"), "a.default.svc.cluster.local:80");
  EXPECT_TRUE(vh->routes(0).route().retry_policy().has_retry_priority());
  ic.UpsertVirtualService(vs("  - redirect: {uri: /x, port: 8080}\n"));
  ic.CompileInto(Node(), &out);
  vh = FindVirtualHost(*FindRoute(out, "80"), "a.default.svc.cluster.local:80");
  EXPECT_EQ(vh->routes(0).redirect().port_redirect(), 8080u);
  ic.UpsertVirtualService(vs("  - redirect: {uri: /x, derivePort: FROM_REQUEST_PORT}\n"));
  ic.CompileInto(Node(), &out);
  vh = FindVirtualHost(*FindRoute(out, "80"), "a.default.svc.cluster.local:80");
  EXPECT_EQ(vh->routes(0).redirect().port_redirect(), 0u);  // port 80 over http: dropped
}

TEST(IncrementalCompilerTest, AnUnrelatedPreviousResultIsNeverTrusted) {
  auto config = ParseYaml(Base() + Vs("a", "a", "v1"));
  IncrementalCompiler ic;
  ic.Update(std::make_shared<model::ConfigSet>(config));
  XdsResources out;
  ic.CompileInto(Node(), &out);
  XdsResources fresh;  // not the previous result: everything must be rebuilt
  ic.CompileInto(Node(), &fresh);
  EXPECT_EQ(Dump(fresh), Dump(Full(config)));
  XdsResources tampered = out;
  tampered.clusters.pop_back();
  ic.CompileInto(Node(), &tampered);
  EXPECT_EQ(Dump(tampered), Dump(Full(config)));
}

}  // namespace
}  // namespace cmesh::compiler::testing
