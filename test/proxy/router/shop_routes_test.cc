// The table built from what the compiler emits for examples/shop, checked against the
// VirtualServices of examples/shop/routing.yaml.
//
// test/data/proxy/router/shop_route_9080.json is the RouteConfiguration "9080" printed by
//   cmeshctl compile -f examples/shop --name 9080 -o json
//     --proxy 'sidecar~10.1.0.10~storefront-7d9f-a1.shop~shop.svc.cluster.local'
// (routes[0]; there is no route "80" in this example, the HTTP services listen on 9080). It was
// checked by hand against what Istio generates for a sidecar in namespace shop: virtual hosts
// "FQDN:9080" with the FQDN, FQDN., short, NAME.NS, NAME.NS.svc and cluster IP domains, ports
// ignored (ignore_port_in_host_matching), the allow_any catch-all to PassthroughCluster last; the
// catalog rules in order (string_match exact header, prefix "/beta/" with prefix_rewrite "/",
// weights 9/1 left raw, timeout 2s, retries 3 x 0.5s on 5xx,reset,connect-failure with
// previous_hosts), the mesh default retry policy and timeout 0s elsewhere, max_stream_duration set
// as Istio does, the inventory redirect (301 is the default code, left out), and the 10 % fault
// delay as 100000 / MILLION.
#include <gtest/gtest.h>

#include <map>

#include "route_table_test_util.h"
#include "test_paths.h"

namespace cmesh::router::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kV1[] = "outbound|9080|v1|catalog.shop.svc.cluster.local";
constexpr char kV2[] = "outbound|9080|v2|catalog.shop.svc.cluster.local";
constexpr char kV3[] = "outbound|9080|v3|catalog.shop.svc.cluster.local";
constexpr char kInventory[] = "outbound|9080||inventory.shop.svc.cluster.local";

class ShopRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = BuildJson(cmesh::testing::ReadFile(cmesh::testing::SourceDir() +
                                                "/test/data/proxy/router/shop_route_9080.json"));
    ASSERT_TRUE(table_);
  }

  Decision Decide(Request r, std::uint64_t seed = 1) {
    Random random(seed);
    return table_->Decide(r.View(), random);
  }

  std::shared_ptr<const RouteTable> table_;
};

TEST_F(ShopRoutesTest, EveryNameOfCatalogReachesItsVirtualHost) {
  for (const char* host : {"catalog", "catalog:9080", "catalog.shop", "catalog.shop.svc",
                           "catalog.shop.svc.cluster.local:9080", "catalog.shop.svc.cluster.local.",
                           "10.96.10.20:9080", "Catalog.Shop"}) {
    EXPECT_EQ(Decide(Get("/", host)).virtual_host, "catalog.shop.svc.cluster.local:9080") << host;
  }
  EXPECT_EQ(Decide(Get("/", "inventory:9080")).virtual_host, "inventory.shop.svc.cluster.local:9080");
}

TEST_F(ShopRoutesTest, GoldCustomersGoToV3) {
  Request r = Get("/beta/list", "catalog:9080");  // also matches beta-pages, which comes later
  r.headers = {{"X-Customer-Tier", "gold"}};
  Decision d = Decide(r);
  EXPECT_EQ(d.route_name, "gold-customers");
  EXPECT_EQ(d.cluster, kV3);
  EXPECT_EQ(d.path_rewrite, "");
  EXPECT_EQ(d.timeout, 0ms);  // Istio's timeout 0s: none
  ASSERT_NE(d.retry, nullptr);  // the mesh default retry policy
  EXPECT_EQ(d.retry->num_retries, 2u);
  EXPECT_TRUE(d.retry->Has(kRetryOnConnectFailure));
  EXPECT_TRUE(d.retry->Has(kRetryOnRetriableStatusCodes));
  EXPECT_FALSE(d.retry->Has(kRetryOn5xx));
  EXPECT_TRUE(d.retry->RetriableStatus(503));
  EXPECT_FALSE(d.retry->RetriableStatus(500));
  EXPECT_TRUE(d.include_request_attempt_count);
  r.headers = {{"x-customer-tier", "silver"}};
  EXPECT_NE(Decide(r).cluster, kV3);
}

TEST_F(ShopRoutesTest, BetaPagesGoToV2WithTheUriRewritten) {
  Decision d = Decide(Get("/beta/products/7?page=2", "catalog"));
  EXPECT_EQ(d.route_name, "beta-pages");
  EXPECT_EQ(d.cluster, kV2);
  EXPECT_EQ(d.path_rewrite, "/products/7?page=2");
}

TEST_F(ShopRoutesTest, EverythingElseIsTheCanarySplit) {
  Random random(2024);
  Request r = Get("/products", "catalog.shop");
  RequestView view = r.View();
  std::map<std::string, int> counts;
  const int n = 50000;
  for (int i = 0; i < n; ++i) {
    Decision d = table_->Decide(view, random);
    ASSERT_EQ(d.route_name, "canary");
    counts[std::string(d.cluster)]++;
  }
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts[kV2] / double(n), 0.10, 0.015);  // weights 9 and 1
  EXPECT_NEAR(counts[kV1] / double(n), 0.90, 0.015);
  Decision d = Decide(Get("/products", "catalog"));
  EXPECT_EQ(d.timeout, 2s);
  EXPECT_EQ(d.max_stream_duration, 2s);
  ASSERT_NE(d.retry, nullptr);
  EXPECT_EQ(d.retry->retry_on, kRetryOn5xx | kRetryOnReset | kRetryOnConnectFailure);
  EXPECT_EQ(d.retry->num_retries, 3u);
  EXPECT_EQ(d.retry->per_try_timeout, 500ms);
  EXPECT_TRUE(d.retry->previous_hosts);
  EXPECT_EQ(d.retry->host_selection_max_attempts, 5u);
}

TEST_F(ShopRoutesTest, InventoryLegacyStockRedirects) {
  Decision d = Decide(Get("/legacy/stock", "inventory:9080"));
  EXPECT_EQ(d.kind, Decision::Kind::kRedirect);
  EXPECT_EQ(d.status, 301u);
  EXPECT_EQ(d.location, "http://inventory:9080/v2/stock");
  // Exact path only.
  EXPECT_EQ(Decide(Get("/legacy/stock/1", "inventory:9080")).cluster, kInventory);
}

TEST_F(ShopRoutesTest, InventoryDelaysTenPercent) {
  Random random(77);
  Request r = Get("/stock/42", "inventory.shop.svc.cluster.local");
  RequestView view = r.View();
  int delayed = 0;
  const int n = 50000;
  for (int i = 0; i < n; ++i) {
    Decision d = table_->Decide(view, random);
    ASSERT_EQ(d.cluster, kInventory);
    ASSERT_FALSE(d.abort);
    if (d.delay) {
      ++delayed;
      ASSERT_EQ(d.delay_duration, 1s);
    }
  }
  EXPECT_NEAR(delayed / double(n), 0.10, 0.015);
}

TEST_F(ShopRoutesTest, UnknownHostsPassThrough) {
  Decision d = Decide(Get("/", "example.org"));
  EXPECT_EQ(d.virtual_host, "allow_any");
  EXPECT_EQ(d.cluster, "PassthroughCluster");
  EXPECT_EQ(d.timeout, 0ms);
  EXPECT_EQ(d.retry, nullptr);
}

}  // namespace
}  // namespace cmesh::router::testing
