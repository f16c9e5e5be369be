// Proxyless gRPC output. Expectations come from what gRFC A27/A28 clients validate (an api_listener
// with an HCM whose filters end with the router, RDS over ADS; routes with a path specifier;
// EDS clusters with ROUND_ROBIN/RING_HASH; IP endpoints, localities with weights) and from
// Istio's grpcgen conventions (listener named as requested, RDS `outbound|PORT||FQDN`).
#include "cmesh/compiler/grpc_proxyless.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cmesh/compiler/snapshot_key.h"
#include "compiler_test_util.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr char kFqdn[] = "reviews.default.svc.cluster.local";
constexpr char kRds[] = "outbound|9080||reviews.default.svc.cluster.local";
constexpr char kClient[] = "sidecar~10.0.0.1~client.default~default.svc.cluster.local";

std::string Mesh() {
  return ServiceYaml("reviews", "default", {"grpc:9080"}, "10.96.0.20") +
         PodYaml("reviews-v1", "default", "10.1.0.1", {{"app", "reviews"}, {"version", "v1"}}) +
         PodYaml("reviews-v2", "default", "10.1.0.2", {{"app", "reviews"}, {"version", "v2"}}) +
         PodYaml("reviews-v3", "default", "10.1.0.3", {{"app", "reviews"}, {"version", "v3"}}) +
         ServiceYaml("private", "team-a", {"grpc:50051"}, "10.96.0.30",
                     "  annotations:\n    networking.istio.io/exportTo: \".\"\n") +
         PodYaml("private-1", "team-a", "10.1.1.1", {{"app", "private"}});
}

std::string Rule(const std::string& lb = "") {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n"
         "  namespace: default\nspec:\n  host: reviews\n" +
         lb +
         "  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v2\n    labels: {version: v2}\n"
         "  - name: v3\n    labels: {version: v3}\n---\n";
}

// jason → v2; everyone else 75/25 between v1 and v3.
std::string Split() {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
         "  namespace: default\nspec:\n  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n"
         "        end-user: {exact: jason}\n    route:\n    - destination: {host: reviews, subset: v2}\n"
         "  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 75\n"
         "    - destination: {host: reviews, subset: v3}\n      weight: 25\n---\n";
}

struct Compiled {
  std::shared_ptr<const ConfigIndex> index;
  ProxyNode node;
  XdsResources out;
};

ProxyNode Node(const std::string& id) {
  std::string error;
  auto node = ParseNodeId(id, &error);
  EXPECT_TRUE(node.has_value()) << error;
  ProxyNode n = node.value_or(ProxyNode{});
  n.generator = "grpc";
  return n;
}

Compiled CompileGrpc(const std::string& yaml, const std::vector<std::string>& names, const std::string& node_id = kClient) {
  Compiled c;
  c.index = BuildIndex(std::make_shared<model::ConfigSet>(ParseYaml(yaml)), MeshOptions{});
  c.node = Node(node_id);
  c.out = CompileProxylessGrpc(*c.index, c.node, MeshOptions{}, names);
  return c;
}

std::vector<std::string> ListenerNames(const XdsResources& r) {
  std::vector<std::string> out;
  for (const auto& l : r.listeners) out.push_back(l.resource.name());
  return out;
}

HttpConnectionManager Hcm(const envoy::config::listener::v3::Listener& l) {
  HttpConnectionManager hcm;
  EXPECT_TRUE(l.has_api_listener());
  EXPECT_TRUE(l.api_listener().api_listener().UnpackTo(&hcm)) << l.api_listener().api_listener().type_url();
  return hcm;
}

TEST(GrpcProxylessTest, GeneratorMarksProxylessClients) {
  ProxyNode n = Node(kClient);
  EXPECT_TRUE(IsProxylessGrpc(n));
  n.generator = "";
  EXPECT_FALSE(IsProxylessGrpc(n));
  EXPECT_FALSE(IsProxylessGrpc("istiod"));
  EXPECT_TRUE(IsProxylessGrpc(std::string_view("grpc")));
  std::string error;
  EXPECT_EQ(ParseNodeId(kClient, &error)->generator, "");  // the node id does not carry it
}

TEST(GrpcProxylessTest, EveryNameFormResolvesToTheSameServicePort) {
  auto index = BuildIndex(std::make_shared<model::ConfigSet>(ParseYaml(Mesh())), MeshOptions{});
  const ProxyNode node = Node(kClient);
  for (const char* name : {"reviews:9080", "reviews.default:9080", "reviews.default.svc:9080",
                           "reviews.default.svc.cluster.local:9080", "reviews.default.svc.cluster.local.:9080"}) {
    auto t = ResolveGrpcTarget(*index, node, MeshOptions{}, name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(t->fqdn, kFqdn) << name;
    EXPECT_EQ(t->port, 9080u) << name;
    EXPECT_EQ(GrpcRouteConfigName(*t), kRds);
  }
}

TEST(GrpcProxylessTest, OneListenerPerRequestedNameSharingOneRouteConfig) {
  const std::vector<std::string> names = {"reviews:9080", "reviews.default:9080", "reviews.default.svc:9080",
                                          "reviews.default.svc.cluster.local:9080"};
  auto c = CompileGrpc(Mesh(), names);
  auto got = ListenerNames(c.out);
  std::vector<std::string> want = names;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);  // named exactly as requested, nothing else
  for (const auto& l : c.out.listeners) EXPECT_EQ(Hcm(l.resource).rds().route_config_name(), kRds);
  ASSERT_EQ(c.out.routes.size(), 1u);
  EXPECT_EQ(c.out.routes[0].resource.name(), kRds);
}

TEST(GrpcProxylessTest, ShortNameIsRelativeToTheProxyNamespace) {
  auto c = CompileGrpc(Mesh(), {"reviews:9080", "reviews.default:9080"}, "sidecar~10.0.0.2~c.other~other.svc.cluster.local");
  EXPECT_EQ(ListenerNames(c.out), std::vector<std::string>{"reviews.default:9080"});
}

TEST(GrpcProxylessTest, ApiListenerHoldsHcmWithRdsOverAdsAndRouterLast) {
  auto c = CompileGrpc(Mesh(), {"reviews.default.svc.cluster.local:9080"});
  ASSERT_EQ(c.out.listeners.size(), 1u);
  const auto& l = c.out.listeners[0].resource;
  EXPECT_FALSE(l.has_address());  // an api_listener is not bound anywhere
  EXPECT_EQ(l.filter_chains_size(), 0);
  HttpConnectionManager hcm = Hcm(l);
  ASSERT_TRUE(hcm.has_rds());
  EXPECT_TRUE(hcm.rds().config_source().has_ads());
  EXPECT_EQ(hcm.rds().route_config_name(), kRds);
  ASSERT_EQ(hcm.http_filters_size(), 2);
  EXPECT_EQ(hcm.http_filters(0).name(), "envoy.filters.http.fault");
  EXPECT_EQ(hcm.http_filters(0).typed_config().type_url(),
            "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault");
  EXPECT_EQ(hcm.http_filters(1).name(), "envoy.filters.http.router");
  EXPECT_EQ(hcm.http_filters(1).typed_config().type_url(),
            "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
}

TEST(GrpcProxylessTest, VirtualHostDomainsMatchTheRequestedAuthority) {
  auto c = CompileGrpc(Mesh(), {"reviews:9080"});
  ASSERT_EQ(c.out.routes.size(), 1u);
  const auto& rc = c.out.routes[0].resource;
  ASSERT_EQ(rc.virtual_hosts_size(), 1);  // the service only, no catch-all
  const auto& vh = rc.virtual_hosts(0);
  EXPECT_EQ(vh.name(), std::string(kFqdn) + ":9080");
  std::set<std::string> domains(vh.domains().begin(), vh.domains().end());
  EXPECT_EQ(domains.size(), static_cast<size_t>(vh.domains_size()));  // unique
  // gRPC matches the channel authority, i.e. the dialled HOST:PORT, for every accepted form.
  for (const char* d : {"reviews:9080", "reviews.default:9080", "reviews.default.svc:9080",
                        "reviews.default.svc.cluster.local:9080", "reviews.default.svc.cluster.local", "reviews"}) {
    EXPECT_EQ(domains.count(d), 1u) << d;
  }
  EXPECT_EQ(domains.count("*"), 0u);
}

TEST(GrpcProxylessTest, DefaultRouteAndClusterWithoutVirtualService) {
  auto c = CompileGrpc(Mesh(), {"reviews:9080"});
  const auto& vh = c.out.routes[0].resource.virtual_hosts(0);
  ASSERT_EQ(vh.routes_size(), 1);
  EXPECT_EQ(vh.routes(0).match().prefix(), "/");
  EXPECT_EQ(vh.routes(0).route().cluster(), kRds);  // the default cluster shares the name
  ASSERT_EQ(c.out.clusters.size(), 1u);
  const auto& cluster = c.out.clusters[0].resource;
  EXPECT_EQ(cluster.name(), kRds);
  EXPECT_EQ(cluster.type(), Cluster::EDS);
  EXPECT_TRUE(cluster.eds_cluster_config().eds_config().has_ads());
  EXPECT_EQ(cluster.lb_policy(), Cluster::ROUND_ROBIN);
  ASSERT_EQ(c.out.endpoints.size(), 1u);
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[0].resource),
            (std::vector<std::string>{"10.1.0.1:9080", "10.1.0.2:9080", "10.1.0.3:9080"}));
}

TEST(GrpcProxylessTest, VirtualServiceHeaderMatchAndWeightedSplit) {
  auto c = CompileGrpc(Mesh() + Rule() + Split(), {"reviews:9080"});
  const auto& vh = c.out.routes[0].resource.virtual_hosts(0);
  ASSERT_EQ(vh.routes_size(), 2);
  for (const auto& r : vh.routes()) {
    EXPECT_NE(r.match().path_specifier_case(), envoy::config::route::v3::RouteMatch::PATH_SPECIFIER_NOT_SET);
  }
  const auto& jason = vh.routes(0);
  ASSERT_EQ(jason.match().headers_size(), 1);
  EXPECT_EQ(jason.match().headers(0).name(), "end-user");
  EXPECT_EQ(jason.match().headers(0).string_match().exact(), "jason");
  EXPECT_EQ(jason.route().cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  const auto& split = vh.routes(1).route().weighted_clusters();
  ASSERT_EQ(split.clusters_size(), 2);
  EXPECT_EQ(split.clusters(0).name(), "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(split.clusters(0).weight().value(), 75u);
  EXPECT_EQ(split.clusters(1).name(), "outbound|9080|v3|reviews.default.svc.cluster.local");
  EXPECT_EQ(split.clusters(1).weight().value(), 25u);
}

TEST(GrpcProxylessTest, ClustersAreTheTargetsDefaultAndEverySubsetOfItsRule) {
  auto c = CompileGrpc(Mesh() + Rule() + Split(), {"reviews:9080"});
  std::vector<std::string> clusters, clas;
  for (const auto& x : c.out.clusters) clusters.push_back(x.resource.name());
  for (const auto& x : c.out.endpoints) clas.push_back(x.resource.cluster_name());
  // The routes use v1, v2 and v3; the default cluster is served too, though no route names it
  // (in name order: '|' sorts after 'v').
  const std::vector<std::string> want = {"outbound|9080|v1|reviews.default.svc.cluster.local",
                                         "outbound|9080|v2|reviews.default.svc.cluster.local",
                                         "outbound|9080|v3|reviews.default.svc.cluster.local",
                                         "outbound|9080||reviews.default.svc.cluster.local"};
  EXPECT_EQ(clusters, want);
  EXPECT_EQ(clas, want);
  ASSERT_EQ(c.out.endpoints.size(), 4u);
  const std::vector<std::string> all = {"10.1.0.1:9080", "10.1.0.2:9080", "10.1.0.3:9080"};
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[3].resource), all);
  for (const auto& x : c.out.clusters) {
    EXPECT_EQ(x.resource.type(), Cluster::EDS);
    EXPECT_TRUE(x.resource.eds_cluster_config().eds_config().has_ads());
    EXPECT_EQ(x.resource.lb_policy(), Cluster::ROUND_ROBIN);
  }
  const std::vector<std::string> v1 = {"10.1.0.1:9080"}, v2 = {"10.1.0.2:9080"}, v3 = {"10.1.0.3:9080"};
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[0].resource), v1);
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[1].resource), v2);
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[2].resource), v3);
  for (const auto& x : c.out.endpoints) {
    for (const auto& locality : x.resource.endpoints()) {
      EXPECT_TRUE(locality.has_locality());
      EXPECT_GT(locality.load_balancing_weight().value(), 0u);
    }
  }
}

// A route change must not remove the cluster the client's current route uses before the client
// has the new route (clusters are pushed first): every subset of the rule stays served, whether
// a route names it or not.
TEST(GrpcProxylessTest, SubsetsNoRouteNamesAreServedSoARouteChangeNeverBreaksCalls) {
  const std::string all_to_v2 =
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
      "  namespace: default\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n"
      "    - destination: {host: reviews, subset: v2}\n---\n";
  auto c = CompileGrpc(Mesh() + Rule() + all_to_v2, {"reviews:9080"});
  std::vector<std::string> clusters;
  for (const auto& x : c.out.clusters) clusters.push_back(x.resource.name());
  EXPECT_EQ(clusters, (std::vector<std::string>{"outbound|9080|v1|reviews.default.svc.cluster.local",
                                                "outbound|9080|v2|reviews.default.svc.cluster.local",
                                                "outbound|9080|v3|reviews.default.svc.cluster.local",
                                                "outbound|9080||reviews.default.svc.cluster.local"}));
  ASSERT_EQ(c.out.endpoints.size(), 4u);
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[0].resource), std::vector<std::string>{"10.1.0.1:9080"});
}

TEST(GrpcProxylessTest, FaultPerRouteConfigKeptCorsLeftOut) {
  // gRPC implements the fault filter (A33) and NACKs per-route configs of filters it lacks (A39).
  std::string vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
                   "  namespace: default\nspec:\n  hosts: [reviews]\n  http:\n  - fault:\n      abort:\n"
                   "        grpcStatus: UNAVAILABLE\n        percentage: {value: 50}\n"
                   "    corsPolicy:\n      allowOrigins:\n      - exact: https://a.com\n"
                   "    route:\n    - destination: {host: reviews}\n---\n";
  auto c = CompileGrpc(Mesh() + vs, {"reviews:9080"});
  ASSERT_EQ(c.out.routes.size(), 1u);
  const auto& cfg = c.out.routes[0].resource.virtual_hosts(0).routes(0).typed_per_filter_config();
  EXPECT_EQ(cfg.count("envoy.filters.http.fault"), 1u);
  EXPECT_EQ(cfg.count("envoy.filters.http.cors"), 0u);
  EXPECT_EQ(cfg.size(), 1u);
  EXPECT_FALSE(c.out.warnings.empty());
}

TEST(GrpcProxylessTest, DestinationsOfOtherServicesGetTheirClusters) {
  // reviews sends 10% to ratings (an ordinary service) and 10% to an ExternalName one, whose
  // DNS cluster gRPC would reject: left out (RPCs routed there fail, the others keep working).
  std::string yaml = Mesh() + ServiceYaml("ratings", "default", {"grpc:9080"}, "10.96.0.21") +
                     PodYaml("ratings-1", "default", "10.1.2.1", {{"app", "ratings"}}) +
                     "apiVersion: v1\nkind: Service\nmetadata:\n  name: legacy\n  namespace: default\nspec:\n"
                     "  type: ExternalName\n  externalName: legacy.example.com\n  ports:\n  - name: grpc\n"
                     "    port: 9080\n---\n"
                     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
                     "  namespace: default\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n"
                     "    - destination: {host: reviews}\n      weight: 80\n"
                     "    - destination: {host: ratings}\n      weight: 10\n"
                     "    - destination: {host: legacy}\n      weight: 10\n---\n";
  auto c = CompileGrpc(yaml, {"reviews:9080"});
  std::vector<std::string> clusters;
  for (const auto& x : c.out.clusters) clusters.push_back(x.resource.name());
  EXPECT_EQ(clusters, (std::vector<std::string>{"outbound|9080||ratings.default.svc.cluster.local",
                                                "outbound|9080||reviews.default.svc.cluster.local"}));
  ASSERT_EQ(c.out.endpoints.size(), 2u);
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[0].resource), std::vector<std::string>{"10.1.2.1:9080"});
}

TEST(GrpcProxylessTest, UnknownOrInvisibleNamesYieldNothing) {
  auto c = CompileGrpc(Mesh() + Rule() + Split(),
               {"nope:9080", "reviews:1234", "reviews", "reviews:", ":9080", "reviews:99999", "*.default:9080",
                "private.team-a:50051", "private.team-a.svc.cluster.local:50051"});
  EXPECT_TRUE(c.out.listeners.empty());
  EXPECT_TRUE(c.out.routes.empty());
  EXPECT_TRUE(c.out.clusters.empty());
  EXPECT_TRUE(c.out.endpoints.empty());
}

TEST(GrpcProxylessTest, ExportToIsRespected) {
  // private is exported to its own namespace only: visible from team-a, by short name too.
  auto c = CompileGrpc(Mesh(), {"private:50051"}, "sidecar~10.1.1.9~c.team-a~team-a.svc.cluster.local");
  EXPECT_EQ(ListenerNames(c.out), std::vector<std::string>{"private:50051"});
  ASSERT_EQ(c.out.endpoints.size(), 1u);
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[0].resource), std::vector<std::string>{"10.1.1.1:50051"});
}

TEST(GrpcProxylessTest, ListenerNamesAreEveryFormOfEveryVisibleServicePort) {
  auto index = BuildIndex(std::make_shared<model::ConfigSet>(ParseYaml(Mesh())), MeshOptions{});
  // From default: reviews in every form (short too, same namespace); private is exported to
  // team-a only, so none of its names.
  EXPECT_EQ(ProxylessGrpcListenerNames(*index, Node(kClient), MeshOptions{}),
            (std::vector<std::string>{"reviews.default.svc.cluster.local:9080", "reviews.default.svc:9080",
                                      "reviews.default:9080", "reviews:9080"}));
  // From team-a: private by every form; reviews, in another namespace, not by its short name
  // (that would mean reviews.team-a).
  EXPECT_EQ(ProxylessGrpcListenerNames(*index, Node("sidecar~10.1.1.9~c.team-a~team-a.svc.cluster.local"), MeshOptions{}),
            (std::vector<std::string>{"private.team-a.svc.cluster.local:50051", "private.team-a.svc:50051",
                                      "private.team-a:50051", "private:50051",
                                      "reviews.default.svc.cluster.local:9080", "reviews.default.svc:9080",
                                      "reviews.default:9080"}));
}

TEST(GrpcProxylessTest, LoadBalancersAreOnesGrpcSupports) {
  // The rule's policy applies to its default cluster and its three subsets alike.
  auto least = CompileGrpc(Mesh() + Rule("  trafficPolicy:\n    loadBalancer: {simple: LEAST_REQUEST}\n"), {"reviews:9080"});
  ASSERT_EQ(least.out.clusters.size(), 4u);
  for (const auto& x : least.out.clusters) {
    EXPECT_EQ(x.resource.lb_policy(), Cluster::ROUND_ROBIN) << x.resource.name();
    EXPECT_FALSE(x.resource.has_least_request_lb_config()) << x.resource.name();
  }
  auto hash = CompileGrpc(Mesh() + Rule("  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpHeaderName: x-user}\n"),
                  {"reviews:9080"});
  ASSERT_EQ(hash.out.clusters.size(), 4u);
  for (const auto& x : hash.out.clusters) EXPECT_EQ(x.resource.lb_policy(), Cluster::RING_HASH) << x.resource.name();
  auto maglev = CompileGrpc(Mesh() + Rule("  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
                                  "        httpHeaderName: x-user\n        maglev: {tableSize: 65537}\n"),
                    {"reviews:9080"});
  ASSERT_EQ(maglev.out.clusters.size(), 4u);
  for (const auto& x : maglev.out.clusters) {
    EXPECT_EQ(x.resource.lb_policy(), Cluster::RING_HASH) << x.resource.name();
    EXPECT_FALSE(x.resource.has_maglev_lb_config()) << x.resource.name();
  }
}

TEST(GrpcProxylessTest, EndpointAddressesAreUnique) {
  // Two slices of one service report the same address: gRPC rejects duplicates.
  std::string slice = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-NAME\n"
                      "  namespace: default\n  labels:\n    kubernetes.io/service-name: web\naddressType: IPv4\n"
                      "ports:\n- name: http\n  port: 8080\nendpoints:\n"
                      "- addresses: [10.2.0.1]\n  conditions: {ready: true}\n  zone: zone-a\n---\n";
  std::string second = slice;
  slice.replace(slice.find("NAME"), 4, "a");
  second.replace(second.find("NAME"), 4, "b");
  auto c = CompileGrpc(ServiceYaml("web", "default", {"http:80"}) + slice + second, {"web:80"});
  ASSERT_EQ(c.out.endpoints.size(), 1u);
  EXPECT_EQ(EndpointAddresses(c.out.endpoints[0].resource), std::vector<std::string>{"10.2.0.1:8080"});
  EXPECT_EQ(c.out.endpoints[0].resource.endpoints(0).load_balancing_weight().value(), 1u);
}

std::string Serialise(const XdsResources& r) {
  std::string out;
  auto add = [&](const google::protobuf::Message& m, const std::string& version) {
    std::string bytes;
    google::protobuf::io::StringOutputStream s(&bytes);
    google::protobuf::io::CodedOutputStream cos(&s);
    cos.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&cos);
    cos.Trim();
    out += bytes + "|" + version + "\n";
  };
  for (const auto& x : r.listeners) add(x.resource, x.version);
  for (const auto& x : r.routes) add(x.resource, x.version);
  for (const auto& x : r.clusters) add(x.resource, x.version);
  for (const auto& x : r.endpoints) add(x.resource, x.version);
  return out;
}

TEST(GrpcProxylessTest, DeterministicWhateverTheRequestOrder) {
  auto a = CompileGrpc(Mesh() + Rule() + Split(), {"reviews:9080", "reviews.default:9080", "nope:1"});
  auto b = CompileGrpc(Mesh() + Rule() + Split(), {"nope:1", "reviews.default:9080", "reviews:9080", "reviews:9080"});
  EXPECT_FALSE(a.out.listeners.empty());
  EXPECT_EQ(Serialise(a.out), Serialise(b.out));
  EXPECT_EQ(a.out.ListenersVersion(), b.out.ListenersVersion());
  EXPECT_EQ(a.out.ClustersVersion(), b.out.ClustersVersion());
  // Another name set gives another listener set.
  auto c = CompileGrpc(Mesh() + Rule() + Split(), {"reviews:9080"});
  EXPECT_NE(a.out.ListenersVersion(), c.out.ListenersVersion());
}

TEST(GrpcProxylessTest, CacheKeyIsSnapshotKeyPlusSortedNames) {
  auto index = BuildIndex(std::make_shared<model::ConfigSet>(ParseYaml(Mesh())), MeshOptions{});
  const ProxyNode node = Node(kClient);
  const std::string k1 = ProxylessGrpcKey(*index, node, {"b:1", "a:1", "a:1"});
  EXPECT_EQ(k1, ProxylessGrpcKey(*index, node, {"a:1", "b:1"}));
  EXPECT_NE(k1, ProxylessGrpcKey(*index, node, {"a:1"}));
  EXPECT_EQ(k1.rfind(ProxySnapshotKey(*index, node), 0), 0u);
  // A name holding the separator cannot stand for two names.
  EXPECT_NE(ProxylessGrpcKey(*index, node, {"a:1,b:1"}), ProxylessGrpcKey(*index, node, {"a:1", "b:1"}));
}

TEST(GrpcProxylessTest, SidecarOutputIgnoresTheGenerator) {
  auto index = BuildIndex(std::make_shared<model::ConfigSet>(ParseYaml(Mesh() + Rule() + Split())), MeshOptions{});
  ProxyNode grpc = Node(kClient);
  ProxyNode sidecar = grpc;
  sidecar.generator.clear();
  EXPECT_EQ(Serialise(Compile(*index, grpc, MeshOptions{})), Serialise(Compile(*index, sidecar, MeshOptions{})));
  EXPECT_EQ(ProxySnapshotKey(*index, grpc), ProxySnapshotKey(*index, sidecar));
}

}  // namespace
}  // namespace cmesh::compiler::testing
