// What cmesh-xds-load takes from a response: names, the EDS/RDS names to subscribe to next, and
// the reasons to NACK. Expected values follow from the resources built here.
#include "response_digest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace cmesh::xds_load {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::Listener;
using envoy::service::discovery::v3::DiscoveryResponse;
using HttpConnectionManager = envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Cluster EdsCluster(const std::string& name, const std::string& service_name) {
  Cluster c;
  c.set_name(name);
  c.set_type(Cluster::EDS);
  c.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  if (!service_name.empty()) c.mutable_eds_cluster_config()->set_service_name(service_name);
  return c;
}

Listener HcmListener(const std::string& name, const std::string& route, bool in_default_chain) {
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(route);
  Listener l;
  l.set_name(name);
  auto* chain = in_default_chain ? l.mutable_default_filter_chain() : l.add_filter_chains();
  auto* filter = chain->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return l;
}

DiscoveryResponse Response(XdsType type, const std::string& version) {
  DiscoveryResponse r;
  r.set_type_url(std::string(TypeUrl(type)));
  r.set_version_info(version);
  r.set_nonce("n1");
  return r;
}

TEST(ResponseDigest, CdsNamesEveryClusterAndReferencesTheEdsOnes) {
  DiscoveryResponse r = Response(XdsType::kCds, "v1");
  r.add_resources()->PackFrom(EdsCluster("outbound|9080||b.ns.svc.cluster.local", "outbound|9080||b.ns.svc.cluster.local"));
  Cluster passthrough;
  passthrough.set_name("PassthroughCluster");
  passthrough.set_type(Cluster::ORIGINAL_DST);
  r.add_resources()->PackFrom(passthrough);
  // No service_name: Envoy asks EDS for the cluster's own name.
  r.add_resources()->PackFrom(EdsCluster("a-cluster", ""));
  ResponseDigest d = DecodeResponse(XdsType::kCds, r);
  EXPECT_THAT(d.names, ElementsAre("outbound|9080||b.ns.svc.cluster.local", "PassthroughCluster", "a-cluster"));
  EXPECT_THAT(d.references, ElementsAre("a-cluster", "outbound|9080||b.ns.svc.cluster.local"));  // sorted
  EXPECT_THAT(d.errors, IsEmpty());
}

TEST(ResponseDigest, LdsReferencesRdsNamesOfEveryChainOnce) {
  DiscoveryResponse r = Response(XdsType::kLds, "v1");
  r.add_resources()->PackFrom(HcmListener("0.0.0.0_9080", "9080", false));
  r.add_resources()->PackFrom(HcmListener("0.0.0.0_8080", "8080", true));
  r.add_resources()->PackFrom(HcmListener("10.0.0.1_9080", "9080", false));  // same route again
  Listener tcp;
  tcp.set_name("10.96.0.1_5432");
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proxy;
  proxy.set_stat_prefix("db");
  proxy.set_cluster("outbound|5432||db");
  tcp.add_filter_chains()->add_filters()->mutable_typed_config()->PackFrom(proxy);
  r.add_resources()->PackFrom(tcp);
  ResponseDigest d = DecodeResponse(XdsType::kLds, r);
  EXPECT_THAT(d.names, ElementsAre("0.0.0.0_9080", "0.0.0.0_8080", "10.0.0.1_9080", "10.96.0.1_5432"));
  EXPECT_THAT(d.references, ElementsAre("8080", "9080"));
  EXPECT_THAT(d.errors, IsEmpty());
}

TEST(ResponseDigest, EdsAndRdsNameTheirResources) {
  DiscoveryResponse eds = Response(XdsType::kEds, "v1");
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name("outbound|9080||b");
  eds.add_resources()->PackFrom(cla);
  EXPECT_THAT(DecodeResponse(XdsType::kEds, eds).names, ElementsAre("outbound|9080||b"));
  DiscoveryResponse rds = Response(XdsType::kRds, "v1");
  envoy::config::route::v3::RouteConfiguration route;
  route.set_name("9080");
  rds.add_resources()->PackFrom(route);
  EXPECT_THAT(DecodeResponse(XdsType::kRds, rds).names, ElementsAre("9080"));
}

TEST(ResponseDigest, ResourcesThatDoNotDecodeAreErrorsNotCrashes) {
  DiscoveryResponse r = Response(XdsType::kCds, "v1");
  auto* truncated = r.add_resources();
  truncated->set_type_url(std::string(TypeUrl(XdsType::kCds)));
  truncated->set_value(std::string("\x0a\x05" "ab", 4));  // field 1 claims 5 bytes, 2 follow
  auto* wrong_type = r.add_resources();
  wrong_type->set_type_url(std::string(TypeUrl(XdsType::kLds)));
  r.add_resources()->PackFrom(EdsCluster("good", ""));
  ResponseDigest d = DecodeResponse(XdsType::kCds, r);
  ASSERT_EQ(d.errors.size(), 2u);
  EXPECT_THAT(d.errors[0], HasSubstr("resource 0 does not parse"));
  EXPECT_THAT(d.errors[1], HasSubstr("resource 1 has type URL"));
  EXPECT_THAT(d.names, ElementsAre("good"));
}

TEST(ResponseDigest, AnHcmThatDoesNotParseIsAnError) {
  Listener l;
  l.set_name("bad");
  auto* any = l.add_filter_chains()->add_filters()->mutable_typed_config();
  any->set_type_url(
      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
  any->set_value(std::string("\x0a\x05" "ab", 4));
  DiscoveryResponse r = Response(XdsType::kLds, "v1");
  r.add_resources()->PackFrom(l);
  ResponseDigest d = DecodeResponse(XdsType::kLds, r);
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_THAT(d.errors[0], HasSubstr("listener bad"));
  EXPECT_THAT(d.references, IsEmpty());
}

TEST(DigestCache, SameContentInAnotherOrderDecodesOnce) {
  DiscoveryResponse first = Response(XdsType::kCds, "v1");
  first.add_resources()->PackFrom(EdsCluster("a", ""));
  first.add_resources()->PackFrom(EdsCluster("b", ""));
  DiscoveryResponse reordered = Response(XdsType::kCds, "v1");
  reordered.set_nonce("another nonce");
  reordered.add_resources()->PackFrom(EdsCluster("b", ""));
  reordered.add_resources()->PackFrom(EdsCluster("a", ""));
  DigestCache cache;
  std::string error;
  auto d1 = cache.Digest(first, &error);
  auto d2 = cache.Digest(reordered, &error);
  ASSERT_TRUE(d1 && d2);
  EXPECT_EQ(cache.decoded(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_THAT(d2->references, ElementsAre("a", "b"));
}

TEST(DigestCache, DifferentBytesUnderOneVersionAreDecodedAgain) {
  DiscoveryResponse first = Response(XdsType::kCds, "v1");
  first.add_resources()->PackFrom(EdsCluster("a", ""));
  DiscoveryResponse changed = Response(XdsType::kCds, "v1");
  changed.add_resources()->PackFrom(EdsCluster("a", "a-service"));
  DigestCache cache;
  std::string error;
  ASSERT_TRUE(cache.Digest(first, &error));
  auto d = cache.Digest(changed, &error);
  ASSERT_TRUE(d);
  EXPECT_EQ(cache.decoded(), 2u);
  EXPECT_THAT(d->references, ElementsAre("a-service"));
}

TEST(DigestCache, UnknownTypeUrlIsAnError) {
  DiscoveryResponse r;
  r.set_type_url("type.googleapis.com/not.a.Type");
  DigestCache cache;
  std::string error;
  EXPECT_EQ(cache.Digest(r, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("not.a.Type"));
}

}  // namespace
}  // namespace cmesh::xds_load
