#include "cmesh/upstream/cluster_info.h"

#include <google/protobuf/text_format.h>

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace cmesh::upstream {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using ::testing::HasSubstr;

Cluster ParseCluster(const std::string& text) {
  Cluster cluster;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &cluster)) << text;
  return cluster;
}

ClusterLoadAssignment ParseCla(const std::string& text) {
  ClusterLoadAssignment cla;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &cla)) << text;
  return cla;
}

// Builds and expects an error that contains every fragment.
std::string BuildError(const Cluster& cluster, const ClusterLoadAssignment* cla = nullptr) {
  std::string error;
  auto info = BuildCluster(cluster, cla, &error);
  EXPECT_EQ(info, nullptr);
  return error;
}

std::shared_ptr<const ClusterInfo> Build(const Cluster& cluster, const ClusterLoadAssignment* cla = nullptr) {
  std::string error;
  auto info = BuildCluster(cluster, cla, &error);
  EXPECT_NE(info, nullptr) << error;
  return info;
}

constexpr const char* kEdsCluster = R"pb(
  name: "outbound|9080||reviews.default.svc.cluster.local"
  type: EDS
  eds_cluster_config { service_name: "outbound|9080|v1|reviews.default.svc.cluster.local" }
)pb";

TEST(ClusterInfoTest, EdsClusterWithEnvoyDefaults) {
  auto info = Build(ParseCluster(kEdsCluster));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "outbound|9080||reviews.default.svc.cluster.local");
  EXPECT_EQ(info->type, DiscoveryType::kEds);
  EXPECT_EQ(info->eds_service_name, "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(info->lb_policy, LbPolicy::kRoundRobin);  // lb_policy unset is ROUND_ROBIN (0)
  EXPECT_EQ(info->connect_timeout, std::chrono::seconds(5));  // Envoy's default
  EXPECT_EQ(info->idle_timeout, std::chrono::hours(1));       // Envoy's default
  EXPECT_EQ(info->max_requests_per_connection, 0u);
  EXPECT_TRUE(info->empty());  // no assignment yet: a 503 until EDS arrives
}

// Istio's InboundPassthroughCluster: 127.0.0.6 and ::6; each connection binds its family's.
TEST(ClusterInfoTest, SourceAddressesPerFamilyAndTheServiceOfAnInboundCluster) {
  auto info = Build(ParseCluster(R"pb(
    name: "InboundPassthroughCluster" type: ORIGINAL_DST lb_policy: CLUSTER_PROVIDED
    upstream_bind_config {
      source_address { address: "127.0.0.6" port_value: 0 }
      extra_source_addresses { address { address: "::6" port_value: 0 } }
    }
    metadata { filter_metadata { key: "istio" value {
      fields { key: "services" value { list_value { values { struct_value {
        fields { key: "host" value { string_value: "reviews.default.svc.cluster.local" } } } } } } } } } })pb"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->source_addresses, (std::vector<std::string>{"127.0.0.6", "::6"}));
  EXPECT_EQ(SourceAddressFor(info->source_addresses, {"10.1.0.5", 9080}), "127.0.0.6");
  EXPECT_EQ(SourceAddressFor(info->source_addresses, {"fd00::5", 9080}), "::6");
  EXPECT_EQ(SourceAddressFor({"127.0.0.6"}, {"fd00::5", 9080}), "");  // no IPv6 source: any
  EXPECT_EQ(info->service_host, "reviews.default.svc.cluster.local");
  std::string error;
  EXPECT_FALSE(BuildCluster(ParseCluster(R"pb(name: "c" type: STATIC
      upstream_bind_config { source_address { address: "127.0.0.6" port_value: 1234 } })pb"), nullptr, &error));
  EXPECT_THAT(error, ::testing::HasSubstr("upstream_bind_config with a fixed port is not supported"));
}

TEST(ClusterInfoTest, EdsServiceNameDefaultsToTheClusterName) {
  auto info = Build(ParseCluster(R"pb(name: "c" type: EDS eds_cluster_config {})pb"));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->eds_service_name, "c");
}

TEST(ClusterInfoTest, EdsEndpointsWeightsAndHealth) {
  const auto cla = ParseCla(R"pb(
    cluster_name: "c"
    endpoints {
      load_balancing_weight { value: 7 }  # locality weight: ignored
      lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 9080 } } } }
      lb_endpoints {
        endpoint { address { socket_address { address: "10.0.0.2" port_value: 9081 } } }
        load_balancing_weight { value: 3 }
        health_status: HEALTHY
      }
      lb_endpoints {
        endpoint { address { socket_address { address: "10.0.0.3" port_value: 9080 } } }
        health_status: UNHEALTHY
      }
      lb_endpoints {
        endpoint { address { socket_address { address: "10.0.0.4" port_value: 9080 } } }
        health_status: DRAINING
      }
      lb_endpoints {
        endpoint { address { socket_address { address: "fd00::5" port_value: 80 } } }
        health_status: DEGRADED
      }
      lb_endpoints {
        endpoint { address { socket_address { address: "10.0.0.6" port_value: 9080 } } }
        health_status: TIMEOUT
      }
    }
  )pb");
  auto info = Build(ParseCluster(R"pb(name: "c" type: EDS lb_policy: RANDOM)pb"), &cla);
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->hosts.size(), 3u);
  EXPECT_EQ(info->hosts[0].address.ToString(), "10.0.0.1:9080");
  EXPECT_EQ(info->hosts[0].weight, 1u);  // load_balancing_weight unset
  EXPECT_EQ(info->hosts[1].address.ToString(), "10.0.0.2:9081");
  EXPECT_EQ(info->hosts[1].weight, 3u);
  EXPECT_EQ(info->hosts[2].address.ToString(), "[fd00::5]:80");
  EXPECT_EQ(info->excluded_hosts, 3u);
  EXPECT_FALSE(info->equal_weights);
  EXPECT_EQ(info->total_weight, 5u);
  EXPECT_THAT(info->cumulative_weights, ::testing::ElementsAre(1u, 4u, 5u));
  EXPECT_EQ(info->lb_policy, LbPolicy::kRandom);
}

TEST(ClusterInfoTest, OnlyTheBestPriorityWithHealthyHostsIsUsed) {
  const auto cla = ParseCla(R"pb(
    endpoints {
      priority: 1
      lb_endpoints { endpoint { address { socket_address { address: "10.0.1.1" port_value: 80 } } } }
    }
    endpoints {
      priority: 0
      lb_endpoints {
        endpoint { address { socket_address { address: "10.0.0.1" port_value: 80 } } }
        health_status: UNHEALTHY
      }
    }
    endpoints {
      priority: 2
      lb_endpoints { endpoint { address { socket_address { address: "10.0.2.1" port_value: 80 } } } }
    }
  )pb");
  auto info = Build(ParseCluster(R"pb(name: "c" type: EDS)pb"), &cla);
  ASSERT_NE(info, nullptr);
  // Priority 0 has no healthy host: priority 1 serves, priority 2 waits.
  ASSERT_EQ(info->hosts.size(), 1u);
  EXPECT_EQ(info->hosts[0].address.address, "10.0.1.1");
  EXPECT_EQ(info->excluded_hosts, 2u);
  EXPECT_TRUE(info->equal_weights);
  EXPECT_TRUE(info->cumulative_weights.empty());
}

TEST(ClusterInfoTest, StaticUsesItsInlineAssignmentAndIgnoresEds) {
  const auto cla = ParseCla(R"pb(
    endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.9.9.9" port_value: 1 } } } } }
  )pb");
  auto info = Build(ParseCluster(R"pb(
                      name: "inbound|9080||"
                      type: STATIC
                      connect_timeout { seconds: 1 nanos: 500000000 }
                      load_assignment {
                        endpoints {
                          lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: 9080 } } } }
                        }
                      }
                    )pb"),
                    &cla);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->type, DiscoveryType::kStatic);
  ASSERT_EQ(info->hosts.size(), 1u);
  EXPECT_EQ(info->hosts[0].address.ToString(), "127.0.0.1:9080");
  EXPECT_EQ(info->connect_timeout, std::chrono::milliseconds(1500));
}

TEST(ClusterInfoTest, StaticWithoutAssignmentIsAnEmptyBlackHole) {
  auto info = Build(ParseCluster(R"pb(name: "BlackHoleCluster" type: STATIC)pb"));
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->empty());
}

TEST(ClusterInfoTest, SubMillisecondTimeoutsRoundUp) {
  auto info = Build(ParseCluster(R"pb(name: "c" type: EDS connect_timeout { nanos: 1 })pb"));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->connect_timeout, std::chrono::milliseconds(1));
}

TEST(ClusterInfoTest, OriginalDstNeedsClusterProvided) {
  auto info = Build(ParseCluster(R"pb(name: "PassthroughCluster" type: ORIGINAL_DST lb_policy: CLUSTER_PROVIDED)pb"));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->type, DiscoveryType::kOriginalDst);
  EXPECT_EQ(info->lb_policy, LbPolicy::kClusterProvided);
  EXPECT_TRUE(info->empty());

  const std::string error = BuildError(ParseCluster(R"pb(name: "PassthroughCluster" type: ORIGINAL_DST)pb"));
  EXPECT_THAT(error, HasSubstr("PassthroughCluster"));
  EXPECT_THAT(error, HasSubstr("ROUND_ROBIN"));
  EXPECT_THAT(error, HasSubstr("ORIGINAL_DST"));
}

TEST(ClusterInfoTest, LeastRequestChoiceCount) {
  auto info = Build(ParseCluster(R"pb(name: "c" type: EDS lb_policy: LEAST_REQUEST)pb"));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->lb_policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(info->choice_count, 2u);

  info = Build(ParseCluster(
      R"pb(name: "c" type: EDS lb_policy: LEAST_REQUEST least_request_lb_config { choice_count { value: 4 } })pb"));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->choice_count, 4u);

  const std::string error = BuildError(ParseCluster(
      R"pb(name: "c" type: EDS lb_policy: LEAST_REQUEST least_request_lb_config { choice_count { value: 1 } })pb"));
  EXPECT_THAT(error, HasSubstr("choice_count must be at least 2"));
}

TEST(ClusterInfoTest, RingHashAndMaglevBuildARingWithPointsByWeight) {
  const auto cla = ParseCla(R"pb(
    endpoints {
      lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 80 } } } load_balancing_weight { value: 3 } }
      lb_endpoints { endpoint { address { socket_address { address: "10.0.0.2" port_value: 80 } } } load_balancing_weight { value: 1 } }
    })pb");
  std::string error;
  auto ring = BuildCluster(ParseCluster(R"pb(name: "c" type: EDS lb_policy: RING_HASH
      ring_hash_lb_config { minimum_ring_size { value: 400 } })pb"), &cla, &error);
  ASSERT_NE(ring, nullptr) << error;
  EXPECT_EQ(ring->lb_policy, LbPolicy::kRingHash);
  // 400 points, three quarters for the weight-3 endpoint.
  ASSERT_EQ(ring->ring.size(), 400u);
  EXPECT_EQ(std::count_if(ring->ring.begin(), ring->ring.end(), [](const auto& p) { return p.host == 0; }), 300);
  EXPECT_TRUE(std::is_sorted(ring->ring.begin(), ring->ring.end(),
                             [](const auto& a, const auto& b) { return a.hash < b.hash; }));
  auto maglev = BuildCluster(ParseCluster(R"pb(name: "c" type: EDS lb_policy: MAGLEV)pb"), &cla, &error);
  ASSERT_NE(maglev, nullptr) << error;
  EXPECT_EQ(maglev->lb_policy, LbPolicy::kRingHash);
  EXPECT_EQ(maglev->ring.size(), 1024u);  // Envoy's default minimum ring size
  EXPECT_THAT(BuildError(ParseCluster(R"pb(name: "c" type: EDS lb_policy: RING_HASH
      ring_hash_lb_config { minimum_ring_size { value: 10 } maximum_ring_size { value: 5 } })pb")),
              HasSubstr("minimum_ring_size above maximum_ring_size"));
}

TEST(ClusterInfoTest, UnsupportedPoliciesAreErrorsNamingClusterAndPolicy) {
  for (const char* policy : {"LOAD_BALANCING_POLICY_CONFIG"}) {
    const std::string error =
        BuildError(ParseCluster(std::string(R"pb(name: "outbound|80||a.b" type: EDS lb_policy: )pb") + policy));
    EXPECT_THAT(error, HasSubstr("cluster \"outbound|80||a.b\""));
    EXPECT_THAT(error, HasSubstr(policy));
  }
  // CLUSTER_PROVIDED belongs to ORIGINAL_DST only.
  EXPECT_THAT(BuildError(ParseCluster(R"pb(name: "c" type: EDS lb_policy: CLUSTER_PROVIDED)pb")),
              HasSubstr("CLUSTER_PROVIDED"));
  EXPECT_THAT(BuildError(ParseCluster(R"pb(name: "c" type: EDS load_balancing_policy {})pb")),
              HasSubstr("load_balancing_policy"));
}

TEST(ClusterInfoTest, UnsupportedTypesAndBadFieldsAreErrors) {
  EXPECT_THAT(BuildError(ParseCluster(R"pb(type: EDS)pb")), HasSubstr("without a name"));
  EXPECT_THAT(BuildError(ParseCluster(R"pb(name: "c" cluster_type { name: "envoy.clusters.aggregate" })pb")),
              HasSubstr("envoy.clusters.aggregate"));
  EXPECT_THAT(BuildError(ParseCluster(R"pb(name: "c" type: EDS connect_timeout {})pb")),
              HasSubstr("connect_timeout must be positive"));
  EXPECT_THAT(BuildError(ParseCluster(R"pb(name: "c" type: EDS connect_timeout { seconds: -1 })pb")),
              HasSubstr("connect_timeout must be positive"));
}

TEST(ClusterInfoTest, DnsClustersAcceptIpLiteralsAndRefuseNames) {
  auto info = Build(ParseCluster(R"pb(
    name: "c"
    type: STRICT_DNS
    load_assignment {
      endpoints { lb_endpoints { endpoint { address { socket_address { address: "192.0.2.1" port_value: 443 } } } } }
    }
  )pb"));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->type, DiscoveryType::kStrictDns);
  ASSERT_EQ(info->hosts.size(), 1u);

  const std::string error = BuildError(ParseCluster(R"pb(
    name: "outbound|443||httpbin.org"
    type: LOGICAL_DNS
    load_assignment {
      endpoints { lb_endpoints { endpoint { address { socket_address { address: "httpbin.org" port_value: 443 } } } } }
    }
  )pb"));
  EXPECT_THAT(error, HasSubstr("outbound|443||httpbin.org"));
  EXPECT_THAT(error, HasSubstr("\"httpbin.org\" needs DNS resolution, not supported yet"));
  EXPECT_THAT(error, HasSubstr("LOGICAL_DNS"));

  EXPECT_THAT(BuildError(ParseCluster(R"pb(
                name: "c"
                type: LOGICAL_DNS
                load_assignment {
                  endpoints {
                    lb_endpoints { endpoint { address { socket_address { address: "192.0.2.1" port_value: 1 } } } }
                    lb_endpoints { endpoint { address { socket_address { address: "192.0.2.2" port_value: 1 } } } }
                  }
                }
              )pb")),
              HasSubstr("exactly one endpoint"));
}

TEST(ClusterInfoTest, BadEndpointsAreErrors) {
  struct Case {
    const char* endpoint;
    const char* expected;
  };
  const Case cases[] = {
      {R"pb(endpoint { address { socket_address { address: "reviews" port_value: 80 } } })pb", "not an IP literal"},
      {R"pb(endpoint { address { socket_address { address: "10.0.0.1" port_value: 0 } } })pb", "port 0"},
      {R"pb(endpoint { address { socket_address { address: "10.0.0.1" port_value: 70000 } } })pb", "port 70000"},
      {R"pb(endpoint { address { socket_address { address: "10.0.0.1" named_port: "http" } } })pb", "named_port"},
      {R"pb(endpoint { address { socket_address { address: "10.0.0.1" port_value: 80 protocol: UDP } } })pb", "UDP"},
      {R"pb(endpoint { address { pipe { path: "/tmp/s" } } })pb", "without a socket address"},
      {R"pb(endpoint_name: "e1")pb", "endpoint_name"},
      {R"pb(endpoint { address { socket_address { address: "10.0.0.1" port_value: 80 } } }
            load_balancing_weight { value: 0 })pb",
       "load_balancing_weight must be at least 1"},
  };
  for (const Case& c : cases) {
    const auto cla = ParseCla(std::string("endpoints { lb_endpoints { ") + c.endpoint + " } }");
    const std::string error = BuildError(ParseCluster(R"pb(name: "bad" type: EDS)pb"), &cla);
    EXPECT_THAT(error, HasSubstr("cluster \"bad\"")) << c.endpoint;
    EXPECT_THAT(error, HasSubstr(c.expected)) << c.endpoint;
  }
}

TEST(ClusterInfoTest, HttpProtocolOptionsFromTheTypedExtension) {
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  options.mutable_common_http_protocol_options()->mutable_max_requests_per_connection()->set_value(100);
  options.mutable_common_http_protocol_options()->mutable_idle_timeout()->set_seconds(30);
  options.mutable_explicit_http_config()->mutable_http_protocol_options();
  Cluster cluster = ParseCluster(kEdsCluster);
  (*cluster.mutable_typed_extension_protocol_options())[kHttpProtocolOptionsKey].PackFrom(options);
  auto info = Build(cluster);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->max_requests_per_connection, 100u);
  EXPECT_EQ(info->idle_timeout, std::chrono::seconds(30));

  // An explicit 0 is Envoy's "no idle timeout".
  options.mutable_common_http_protocol_options()->mutable_idle_timeout()->set_seconds(0);
  (*cluster.mutable_typed_extension_protocol_options())[kHttpProtocolOptionsKey].PackFrom(options);
  info = Build(cluster);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->idle_timeout.count(), 0);

  options.mutable_common_http_protocol_options()->mutable_idle_timeout()->set_seconds(-5);
  (*cluster.mutable_typed_extension_protocol_options())[kHttpProtocolOptionsKey].PackFrom(options);
  EXPECT_THAT(BuildError(cluster), HasSubstr("idle_timeout must not be negative"));
}

TEST(ClusterInfoTest, TypedOptionsWinOverTheDeprecatedClusterFields) {
  Cluster cluster = ParseCluster(R"pb(
    name: "c"
    type: EDS
    max_requests_per_connection { value: 7 }
    common_http_protocol_options { idle_timeout { seconds: 20 } }
  )pb");
  auto info = Build(cluster);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->max_requests_per_connection, 7u);  // the deprecated fields are read...
  EXPECT_EQ(info->idle_timeout, std::chrono::seconds(20));

  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  options.mutable_common_http_protocol_options()->mutable_max_requests_per_connection()->set_value(9);
  (*cluster.mutable_typed_extension_protocol_options())[kHttpProtocolOptionsKey].PackFrom(options);
  info = Build(cluster);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->max_requests_per_connection, 9u);         // ...and the typed extension wins
  EXPECT_EQ(info->idle_timeout, std::chrono::hours(1));     // its common options have no idle timeout

  // Something else under the key is an error, options for other protocols are ignored.
  Cluster wrong = ParseCluster(kEdsCluster);
  (*wrong.mutable_typed_extension_protocol_options())[kHttpProtocolOptionsKey].PackFrom(cluster);
  EXPECT_THAT(BuildError(wrong), HasSubstr("does not unpack"));
  Cluster other = ParseCluster(kEdsCluster);
  (*other.mutable_typed_extension_protocol_options())["envoy.something.else"].PackFrom(cluster);
  EXPECT_NE(Build(other), nullptr);
}

}  // namespace
}  // namespace cmesh::upstream
