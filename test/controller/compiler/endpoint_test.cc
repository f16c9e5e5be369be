// EDS: subset filtering by pod labels, pod phases, readiness, locality and weights.
#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

constexpr char kClientNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";

std::string Config() {
  return ServiceYaml("reviews", "default", {"http:9080"}) +
         PodYaml("r1", "default", "10.0.1.1", {{"app", "reviews"}, {"version", "v1"}}) +
         PodYaml("r2", "default", "10.0.1.2", {{"app", "reviews"}, {"version", "v2"}, {"extra", "x"}}) +
         PodYaml("r2-notready", "default", "10.0.1.3", {{"app", "reviews"}, {"version", "v2"}}, "Running", false) +
         PodYaml("r2-pending", "default", "10.0.1.4", {{"app", "reviews"}, {"version", "v2"}}, "Pending") +
         PodYaml("r2-failed", "default", "10.0.1.5", {{"app", "reviews"}, {"version", "v2"}}, "Failed") +
         PodYaml("r2-noip", "default", "", {{"app", "reviews"}, {"version", "v2"}}) +
         PodYaml("other", "default", "10.0.1.6", {{"app", "ratings"}, {"version", "v2"}}) +
         "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n"
         "  namespace: default\nspec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n"
         "  - name: v2\n    labels: {version: v2}\n  - name: none\n    labels: {version: v9}\n";
}

TEST(EndpointTest, SubsetsHoldOnlyMatchingPodsAndNeverPendingOrFailed) {
  auto r = CompileFor(ParseYaml(Config()), kClientNode);
  const auto* all = FindEndpoints(r, "outbound|9080||reviews.default.svc.cluster.local");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(EndpointAddresses(*all),
            (std::vector<std::string>{"10.0.1.1:9080", "10.0.1.2:9080", "10.0.1.3:9080"}));
  const auto* v1 = FindEndpoints(r, "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(EndpointAddresses(*v1), (std::vector<std::string>{"10.0.1.1:9080"}));
  const auto* v2 = FindEndpoints(r, "outbound|9080|v2|reviews.default.svc.cluster.local");
  EXPECT_EQ(EndpointAddresses(*v2), (std::vector<std::string>{"10.0.1.2:9080", "10.0.1.3:9080"}));
  const auto* none = FindEndpoints(r, "outbound|9080|none|reviews.default.svc.cluster.local");
  ASSERT_NE(none, nullptr);  // the cluster exists, with no endpoints
  EXPECT_TRUE(EndpointAddresses(*none).empty());
}

TEST(EndpointTest, HealthWeightAndLocality) {
  auto r = CompileFor(ParseYaml(Config()), kClientNode);
  const auto* v2 = FindEndpoints(r, "outbound|9080|v2|reviews.default.svc.cluster.local");
  ASSERT_EQ(v2->endpoints_size(), 1);
  const auto& locality = v2->endpoints(0);
  EXPECT_TRUE(locality.has_locality());
  EXPECT_EQ(locality.load_balancing_weight().value(), 2u);
  ASSERT_EQ(locality.lb_endpoints_size(), 2);
  EXPECT_EQ(locality.lb_endpoints(0).health_status(), envoy::config::core::v3::HEALTHY);
  EXPECT_EQ(locality.lb_endpoints(1).health_status(), envoy::config::core::v3::UNHEALTHY);
  for (const auto& lb : locality.lb_endpoints()) EXPECT_GE(lb.load_balancing_weight().value(), 1u);
}

TEST(EndpointTest, ZonesFromEndpointSlicesBecomeLocalities) {
  std::string yaml = ServiceYaml("web", "default", {"http:80"}) +
                     "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-abc\n"
                     "  namespace: default\n  labels:\n    kubernetes.io/service-name: web\naddressType: IPv4\n"
                     "ports:\n- name: http\n  port: 8080\nendpoints:\n"
                     "- addresses: [10.2.0.2]\n  conditions: {ready: true}\n  zone: zone-b\n"
                     "- addresses: [10.2.0.1]\n  conditions: {ready: true}\n  zone: zone-a\n";
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  const auto* cla = FindEndpoints(r, "outbound|80||web.default.svc.cluster.local");
  ASSERT_NE(cla, nullptr);
  ASSERT_EQ(cla->endpoints_size(), 2);
  EXPECT_EQ(cla->endpoints(0).locality().zone(), "zone-a");
  EXPECT_EQ(cla->endpoints(1).locality().zone(), "zone-b");
  EXPECT_EQ(EndpointAddresses(*cla), (std::vector<std::string>{"10.2.0.1:8080", "10.2.0.2:8080"}));
}

}  // namespace
}  // namespace cmesh::compiler::testing
