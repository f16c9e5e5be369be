// Behaviour: host names (short, cross-namespace), exportTo, two VirtualServices for one host,
// the default route for a service without VirtualService, and unknown hosts (allow_any,
// REGISTRY_ONLY).
#include <gtest/gtest.h>

#include "behaviour_mesh.h"

namespace cmesh::behaviour {
namespace {

using simulator::Decision;

const std::string kReviewsToV2 = R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
)";

TEST(BehaviourHostsTest, ShortNameInTheSameNamespace) {
  Mesh mesh("");
  for (const char* url : {"http://reviews:9080/", "http://reviews.default:9080/", "http://reviews.default.svc:9080/",
                          "http://reviews.default.svc.cluster.local:9080/"}) {
    Decision d = mesh.Send(Productpage(), url);
    EXPECT_EQ(d.virtual_host, "reviews.default.svc.cluster.local:9080") << url;
    EXPECT_EQ(d.cluster, Cluster(9080, "", "reviews.default")) << url;
  }
}

TEST(BehaviourHostsTest, ShortNameDoesNotResolveFromAnotherNamespace) {
  Mesh mesh("");
  // From "other", "reviews" is not a domain of reviews.default's virtual host: the request is
  // for an unknown host and passes through (ALLOW_ANY).
  Decision short_name = mesh.Send(OtherClient(), "http://reviews:9080/");
  EXPECT_EQ(short_name.virtual_host, "allow_any");
  EXPECT_EQ(short_name.cluster, "PassthroughCluster");
  for (const char* url : {"http://reviews.default:9080/", "http://reviews.default.svc:9080/",
                          "http://reviews.default.svc.cluster.local:9080/"}) {
    Decision d = mesh.Send(OtherClient(), url);
    EXPECT_EQ(d.virtual_host, "reviews.default.svc.cluster.local:9080") << url;
    EXPECT_EQ(d.cluster, Cluster(9080, "", "reviews.default")) << url;
  }
}

TEST(BehaviourHostsTest, VirtualServiceShortHostMeansItsOwnNamespace) {
  // The VS in "default" says host "reviews": reviews.default, for every proxy that sees it.
  Mesh mesh(kReviewsToV2);
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/").cluster, Cluster(9080, "v2", "reviews.default"));
  EXPECT_EQ(mesh.Send(OtherClient(), "http://reviews.default:9080/").cluster, Cluster(9080, "v2", "reviews.default"));
}

TEST(BehaviourHostsTest, ShortHostInAnotherNamespaceDoesNotTouchThatService) {
  // A VS in "other" for host "reviews" is about reviews.other (which does not exist), not reviews.default.
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: other}
spec:
  hosts: [reviews]
  http:
  - directResponse: {status: 418}
)");
  Decision d = mesh.Send(OtherClient(), "http://reviews.default:9080/");
  EXPECT_EQ(d.outcome, Decision::Outcome::kCluster);
  EXPECT_EQ(d.cluster, Cluster(9080, "", "reviews.default"));
  EXPECT_EQ(d.route_name, "default");
}

TEST(BehaviourHostsTest, FullyQualifiedHostFromAnotherNamespaceApplies) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-from-shop, namespace: shop}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - route: [{destination: {host: reviews.default.svc.cluster.local, subset: v3}}]
)");
  Decision d = mesh.Send(Productpage(), "http://reviews:9080/");
  EXPECT_EQ(d.cluster, Cluster(9080, "v3", "reviews.default"));
  ASSERT_TRUE(d.config.has_value());
  EXPECT_EQ(d.config->ns, "shop");
  EXPECT_EQ(d.config->name, "reviews-from-shop");
}

TEST(BehaviourHostsTest, NoVirtualServiceGivesTheDefaultRoute) {
  Mesh mesh("");
  Decision d = mesh.Send(Productpage(), "http://ratings:9080/ratings/1");
  EXPECT_EQ(d.outcome, Decision::Outcome::kCluster);
  EXPECT_EQ(d.route_name, "default");
  EXPECT_EQ(d.route_match, "prefix /");
  EXPECT_FALSE(d.config.has_value());
  EXPECT_EQ(d.cluster, Cluster(9080, "", "ratings.default"));
  ASSERT_TRUE(d.timeout_ms.has_value());
  EXPECT_EQ(*d.timeout_ms, 0);  // disabled, not Envoy's 15s
  ASSERT_TRUE(d.retry.has_value());
  EXPECT_EQ(d.retry->num_retries, 2u);
  EXPECT_EQ(d.retry->retry_on, "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
  EXPECT_EQ(d.retry->host_predicates, std::vector<std::string>{"envoy.retry_host_predicates.previous_hosts"});
}

TEST(BehaviourHostsTest, UnknownHostOnAServicePortPassesThroughUnderAllowAny) {
  Mesh mesh("");
  Decision d = mesh.Send(Productpage(), "http://api.example.com:9080/");
  EXPECT_EQ(d.listener, "0.0.0.0_9080");
  EXPECT_EQ(d.virtual_host, "allow_any");
  EXPECT_EQ(d.cluster, "PassthroughCluster");
}

TEST(BehaviourHostsTest, UnknownPortPassesThroughVirtualOutbound) {
  Mesh mesh("");
  Decision d = mesh.Send(Productpage(), "http://api.example.com:7777/");
  EXPECT_EQ(d.listener, "virtualOutbound");
  EXPECT_EQ(d.outcome, Decision::Outcome::kTcpProxy);
  EXPECT_EQ(d.cluster, "PassthroughCluster");
}

TEST(BehaviourHostsTest, RegistryOnlyBlocksUnknownHosts) {
  compiler::MeshOptions options;
  options.outbound_policy = compiler::MeshOptions::OutboundPolicy::kRegistryOnly;
  Mesh mesh("", options);
  Decision http = mesh.Send(Productpage(), "http://api.example.com:9080/");
  EXPECT_EQ(http.outcome, Decision::Outcome::kDirectResponse);
  EXPECT_EQ(http.direct_status, 502u);
  Decision tcp = mesh.Send(Productpage(), "http://api.example.com:7777/");
  EXPECT_EQ(tcp.cluster, "BlackHoleCluster");
  // Known services still work.
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/").cluster, Cluster(9080, "", "reviews.default"));
}

TEST(BehaviourHostsTest, VirtualServiceExportedToItsNamespaceOnly) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  exportTo: ["."]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
)");
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/").cluster, Cluster(9080, "v2", "reviews.default"));
  Decision other = mesh.Send(OtherClient(), "http://reviews.default:9080/");
  EXPECT_EQ(other.cluster, Cluster(9080, "", "reviews.default"));
  EXPECT_EQ(other.route_name, "default");
}

TEST(BehaviourHostsTest, VirtualServiceExportedToANamedNamespace) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  exportTo: [other]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
)");
  EXPECT_EQ(mesh.Send(OtherClient(), "http://reviews.default:9080/").cluster, Cluster(9080, "v2", "reviews.default"));
  EXPECT_EQ(mesh.Send(ShopFrontend(), "http://reviews.default:9080/").route_name, "default");
  // Not exported to its own namespace either: "other" only.
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/").route_name, "default");
}

TEST(BehaviourHostsTest, DestinationRuleExportedToItsNamespaceOnly) {
  // The base DR is public; a private one for ratings only gives subset clusters inside "default".
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  exportTo: ["."]
  subsets:
  - {name: v1, labels: {version: v1}}
)");
  EXPECT_TRUE(HasCluster(mesh.ResourcesFor(Productpage()), Cluster(9080, "v1", "ratings.default")));
  EXPECT_FALSE(HasCluster(mesh.ResourcesFor(OtherClient()), Cluster(9080, "v1", "ratings.default")));
  EXPECT_TRUE(HasCluster(mesh.ResourcesFor(OtherClient()), Cluster(9080, "", "ratings.default")));
}

TEST(BehaviourHostsTest, SubsetOfAnInvisibleDestinationRuleIsA503NoCluster) {
  // The VS is public but the DR defining its subset is private to "default": from "other" the
  // route names a subset cluster the proxy does not have, and Envoy answers 503 NC.
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  exportTo: ["."]
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings, subset: v1}}]
)");
  Decision inside = mesh.Send(Productpage(), "http://ratings:9080/");
  EXPECT_EQ(inside.cluster, Cluster(9080, "v1", "ratings.default"));
  EXPECT_TRUE(inside.missing_clusters.empty());
  EXPECT_EQ(inside.LocalStatus(), 0u);
  Decision outside = mesh.Send(OtherClient(), "http://ratings.default:9080/");
  EXPECT_EQ(outside.cluster, Cluster(9080, "v1", "ratings.default"));
  EXPECT_EQ(outside.missing_clusters, std::vector<std::string>{Cluster(9080, "v1", "ratings.default")});
  EXPECT_EQ(outside.LocalStatus(), 503u);
}

TEST(BehaviourHostsTest, ServiceExportedToItsNamespaceOnly) {
  Mesh mesh(R"(
apiVersion: v1
kind: Service
metadata:
  name: secret
  namespace: default
  annotations: {networking.istio.io/exportTo: "."}
spec:
  clusterIP: 10.96.0.50
  selector: {app: secret}
  ports: [{name: http, port: 9080}]
)");
  Decision inside = mesh.Send(Productpage(), "http://secret:9080/");
  EXPECT_EQ(inside.cluster, Cluster(9080, "", "secret.default"));
  Decision outside = mesh.Send(OtherClient(), "http://secret.default:9080/");
  EXPECT_EQ(outside.virtual_host, "allow_any");
  EXPECT_EQ(outside.cluster, "PassthroughCluster");
  EXPECT_FALSE(HasCluster(mesh.ResourcesFor(OtherClient()), Cluster(9080, "", "secret.default")));
}

TEST(BehaviourHostsTest, TwoVirtualServicesForOneHostOnlyTheFirstIsUsed) {
  // Istio sidecars do not merge VirtualServices (a gateway-only feature): the first one wins.
  // Without creation times cmesh orders by namespace/name, so "a-reviews" is first.
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b-reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: reviews, subset: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: reviews, subset: v1}}]
)");
  Decision a = mesh.Send(Productpage(), "http://reviews:9080/a");
  EXPECT_EQ(a.cluster, Cluster(9080, "v1", "reviews.default"));
  ASSERT_TRUE(a.config.has_value());
  EXPECT_EQ(a.config->name, "a-reviews");
  // b-reviews' rule is not merged in: /b matches nothing.
  Decision b = mesh.Send(Productpage(), "http://reviews:9080/b");
  EXPECT_EQ(b.outcome, Decision::Outcome::kNoRoute);
  bool warned = false;
  for (const auto& w : mesh.ResourcesFor(Productpage()).warnings) {
    warned |= w.find("a-reviews") != std::string::npos && w.find("b-reviews") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace cmesh::behaviour
