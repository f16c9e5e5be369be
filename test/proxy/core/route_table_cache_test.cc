#include "cmesh/proxy_core/route_table_cache.h"

#include <gtest/gtest.h>

namespace cmesh::proxy_core {
namespace {

envoy::config::route::v3::RouteConfiguration Config(const std::string& cluster) {
  envoy::config::route::v3::RouteConfiguration config;
  config.set_name("9080");
  auto* vh = config.add_virtual_hosts();
  vh->set_name("reviews");
  vh->add_domains("reviews");
  auto* route = vh->add_routes();
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(cluster);
  return config;
}

TEST(RouteTableCacheTest, TheSameContentIsCompiledOnce) {
  RouteTableCache cache;
  std::string error;
  auto first = cache.Get(Config("a"), &error);
  ASSERT_NE(first, nullptr) << error;
  EXPECT_EQ(cache.Get(Config("a"), &error), first);  // a copy of the same configuration
  auto changed = cache.Get(Config("b"), &error);
  ASSERT_NE(changed, nullptr);
  EXPECT_NE(changed, first);
}

TEST(RouteTableCacheTest, ABadConfigurationGivesItsError) {
  RouteTableCache cache;
  auto bad = Config("a");
  bad.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match()->mutable_safe_regex()->set_regex("/a(");
  std::string error;
  EXPECT_EQ(cache.Get(bad, &error), nullptr);
  EXPECT_NE(error.find("regex"), std::string::npos) << error;
  std::string again;
  EXPECT_EQ(cache.Get(bad, &again), nullptr);
  EXPECT_EQ(again, error);
}

}  // namespace
}  // namespace cmesh::proxy_core
