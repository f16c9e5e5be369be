// Behaviour: multi-port services and destination port resolution, port matches, sourceLabels,
// sourceNamespace, and subsets with their endpoints.
#include <gtest/gtest.h>

#include "behaviour_mesh.h"

namespace cmesh::behaviour {
namespace {

using simulator::Decision;

TEST(BehaviourPortsTest, EachPortOfAMultiPortServiceHasItsOwnRouteConfig) {
  Mesh mesh("");
  Decision public_port = mesh.Send(ShopFrontend(), "http://catalog/items");
  EXPECT_EQ(public_port.listener, "0.0.0.0_80");
  EXPECT_EQ(public_port.route_config, "80");
  EXPECT_EQ(public_port.virtual_host, "catalog.shop.svc.cluster.local:80");
  EXPECT_EQ(public_port.cluster, Cluster(80, "", "catalog.shop"));
  Decision admin = mesh.Send(ShopFrontend(), "http://catalog:8080/admin");
  EXPECT_EQ(admin.route_config, "8080");
  EXPECT_EQ(admin.virtual_host, "catalog.shop.svc.cluster.local:8080");
  EXPECT_EQ(admin.cluster, Cluster(8080, "", "catalog.shop"));
}

TEST(BehaviourPortsTest, DestinationWithoutPortOnAMultiPortServiceUsesTheListenersPort) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  http:
  - route: [{destination: {host: catalog, subset: v2}}]
)");
  EXPECT_EQ(mesh.Send(ShopFrontend(), "http://catalog/").cluster, Cluster(80, "v2", "catalog.shop"));
  EXPECT_EQ(mesh.Send(ShopFrontend(), "http://catalog:8080/").cluster, Cluster(8080, "v2", "catalog.shop"));
}

TEST(BehaviourPortsTest, ExplicitDestinationPortWins) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  http:
  - route: [{destination: {host: catalog, port: {number: 8080}}}]
)");
  EXPECT_EQ(mesh.Send(ShopFrontend(), "http://catalog/").cluster, Cluster(8080, "", "catalog.shop"));
}

TEST(BehaviourPortsTest, SinglePortDestinationUsesItsOnlyPort) {
  // Requests to catalog:80 are sent to reviews, whose only port is 9080.
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  http:
  - route: [{destination: {host: reviews.default.svc.cluster.local}}]
)");
  EXPECT_EQ(mesh.Send(ShopFrontend(), "http://catalog/").cluster, Cluster(9080, "", "reviews.default"));
}

TEST(BehaviourPortsTest, PortMatchOnlyAppliesOnThatPort) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  http:
  - match: [{port: 8080}]
    directResponse: {status: 403}
  - route: [{destination: {host: catalog, subset: v1}}]
)");
  Decision admin = mesh.Send(ShopFrontend(), "http://catalog:8080/");
  EXPECT_EQ(admin.outcome, Decision::Outcome::kDirectResponse);
  EXPECT_EQ(admin.direct_status, 403u);
  Decision public_port = mesh.Send(ShopFrontend(), "http://catalog/");
  EXPECT_EQ(public_port.cluster, Cluster(80, "v1", "catalog.shop"));
  EXPECT_EQ(public_port.route_index, 0);  // the port-8080 match is not even emitted on port 80
}

TEST(BehaviourPortsTest, SourceLabelsSelectTheCallingWorkload) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {app: productpage, version: v1}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
)");
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/").cluster, Cluster(9080, "v2", "reviews.default"));
  EXPECT_EQ(mesh.Send(OtherClient(), "http://reviews.default:9080/").cluster, Cluster(9080, "v1", "reviews.default"));
  Proxy productpage_v2 = Productpage();
  productpage_v2.pod = "productpage-v2";
  productpage_v2.labels["version"] = "v2";  // all sourceLabels must fit
  EXPECT_EQ(mesh.Send(productpage_v2, "http://reviews:9080/").cluster, Cluster(9080, "v1", "reviews.default"));
}

TEST(BehaviourPortsTest, SourceNamespaceSelectsTheCallingNamespace) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceNamespace: other}]
    route: [{destination: {host: reviews, subset: v3}}]
  - route: [{destination: {host: reviews, subset: v1}}]
)");
  EXPECT_EQ(mesh.Send(OtherClient(), "http://reviews.default:9080/").cluster, Cluster(9080, "v3", "reviews.default"));
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/").cluster, Cluster(9080, "v1", "reviews.default"));
}

TEST(BehaviourPortsTest, SubsetEndpointsHoldOnlyThatVersionsRunningPods) {
  Mesh mesh("");
  const auto& r = mesh.ResourcesFor(Productpage());
  EXPECT_EQ(EndpointAddresses(r, Cluster(9080, "v1", "reviews.default")), (std::set<std::string>{"10.10.0.1"}));
  // The Failed v2 pod (10.10.0.9) is not an endpoint.
  EXPECT_EQ(EndpointAddresses(r, Cluster(9080, "v2", "reviews.default")), (std::set<std::string>{"10.10.0.2"}));
  // The Pending v3 pod has no IP and is not an endpoint.
  EXPECT_EQ(EndpointAddresses(r, Cluster(9080, "v3", "reviews.default")), (std::set<std::string>{"10.10.0.3"}));
  EXPECT_EQ(EndpointAddresses(r, Cluster(9080, "", "reviews.default")),
            (std::set<std::string>{"10.10.0.1", "10.10.0.2", "10.10.0.3"}));
}

TEST(BehaviourPortsTest, MultiPortEndpointsUseEachPortsTargetPort) {
  Mesh mesh("");
  const auto& r = mesh.ResourcesFor(ShopFrontend());
  auto ports_of = [&](const std::string& cluster) {
    std::set<uint32_t> ports;
    for (const auto& cla : r.endpoints) {
      if (cla.resource.cluster_name() != cluster) continue;
      for (const auto& locality : cla.resource.endpoints()) {
        for (const auto& lb : locality.lb_endpoints()) ports.insert(lb.endpoint().address().socket_address().port_value());
      }
    }
    return ports;
  };
  EXPECT_EQ(ports_of(Cluster(80, "", "catalog.shop")), std::set<uint32_t>{8000});
  EXPECT_EQ(ports_of(Cluster(8080, "", "catalog.shop")), std::set<uint32_t>{8001});
  EXPECT_EQ(EndpointAddresses(r, Cluster(8080, "v2", "catalog.shop")), std::set<std::string>{"10.20.0.2"});
}

TEST(BehaviourPortsTest, AcceptanceJasonGoesToV2EveryoneElseToV3) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v3}}]
)");
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/reviews/0", {{"end-user", "jason"}}).cluster,
            Cluster(9080, "v2", "reviews.default"));
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/reviews/0", {{"end-user", "mike"}}).cluster,
            Cluster(9080, "v3", "reviews.default"));
  EXPECT_EQ(mesh.Send(Productpage(), "http://reviews:9080/reviews/0").cluster, Cluster(9080, "v3", "reviews.default"));
}

}  // namespace
}  // namespace cmesh::behaviour
