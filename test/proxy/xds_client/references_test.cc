#include "cmesh/xds_client/references.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/xds_client/resource_validator.h"
#include "responses.h"
#include "test_resources.h"

namespace cmesh::xds_client {
namespace {

using ::testing::ElementsAre;
using namespace testing;
namespace xt = cmesh::xds::testing;

TEST(References, EdsServiceNameIsTheServiceNameElseTheClusterNameAndOnlyForEdsClusters) {
  auto cluster = xt::EdsCluster("outbound|80||a.default.svc.cluster.local");
  EXPECT_EQ(EdsServiceName(cluster), "outbound|80||a.default.svc.cluster.local");
  cluster.mutable_eds_cluster_config()->set_service_name("a-endpoints");
  EXPECT_EQ(EdsServiceName(cluster), "a-endpoints");
  cluster.set_type(envoy::config::cluster::v3::Cluster::STRICT_DNS);
  EXPECT_EQ(EdsServiceName(cluster), std::nullopt);
}

TEST(References, RdsNamesComeOnlyFromHttpConnectionManagersByTypeUrl) {
  auto listener = ChainListener("l", {"r1"});
  // An HCM packed under a type URL with another host still counts; another type never does, even
  // when its bytes would parse as an HCM.
  auto* other_host = listener.add_filter_chains()->add_filters()->mutable_typed_config();
  *other_host = Pack(RdsHcm("r2"));
  other_host->set_type_url("example.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
  auto* not_hcm = listener.add_filter_chains()->add_filters()->mutable_typed_config();
  *not_hcm = Pack(RdsHcm("r3"));
  not_hcm->set_type_url("type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
  std::set<std::string, std::less<>> names;
  AddRdsNames(listener, names);
  EXPECT_THAT(names, ElementsAre("r1", "r2"));
}

TEST(DefaultResourceValidator, AcceptsTheShapesCmeshServes) {
  DefaultResourceValidator validator;
  EXPECT_EQ(validator.ValidateListener(ChainListener("0.0.0.0_9080", {"9080"})), "");
  EXPECT_EQ(validator.ValidateListener(xt::Listener("a:80", "a-route")), "");
  EXPECT_EQ(validator.ValidateRoute(xt::Route("9080", "c")), "");
  EXPECT_EQ(validator.ValidateCluster(xt::EdsCluster("c")), "");
  EXPECT_EQ(validator.ValidateEndpoints(xt::Assignment("c", {"10.0.0.1"})), "");
  // Inline routes need no RDS.
  envoy::config::listener::v3::Listener inline_listener;
  inline_listener.set_name("inline");
  HttpConnectionManager hcm;
  hcm.mutable_route_config()->set_name("local");
  *inline_listener.add_filter_chains()->add_filters()->mutable_typed_config() = Pack(hcm);
  EXPECT_EQ(validator.ValidateListener(inline_listener), "");
}

TEST(DefaultResourceValidator, RejectsAnRdsHcmWithoutARouteName) {
  DefaultResourceValidator validator;
  EXPECT_EQ(validator.ValidateListener(ChainListener("l", {""})), "http_connection_manager rds has no route_config_name");
}

}  // namespace
}  // namespace cmesh::xds_client
