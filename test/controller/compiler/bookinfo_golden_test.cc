// Golden tests on Istio's bookinfo: the productpage sidecar's resources, compared with files
// checked by hand against Istio's conventions (test/data/compiler/golden/). Set
// CMESH_GOLDEN_OUT=DIR to write the actual output there for review; the test always compares.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "test_paths.h"

namespace cmesh::compiler::testing {
namespace {

class BookinfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto corpus = ::cmesh::testing::CorpusDir();
    if (!corpus) GTEST_SKIP() << "Istio corpus not found: set CMESH_CORPUS_DIR (default ../shared/corpus)";
    const std::string bookinfo = *corpus + "/istio/bookinfo/";
    model::ConfigSet config;
    for (const std::string& file : {bookinfo + "platform/bookinfo.yaml", bookinfo + "networking/destination-rule-all.yaml",
                                   bookinfo + "networking/virtual-service-reviews-jason-v2-v3.yaml"}) {
      config.Merge(ParseYaml(::cmesh::testing::ReadFile(file), file));
    }
    const std::string pods = ::cmesh::testing::SourceDir() + "/test/data/compiler/bookinfo-pods.yaml";
    config.Merge(ParseYaml(::cmesh::testing::ReadFile(pods), pods));
    resources_ = CompileFor(config, kProductpageNode);
  }

  void ExpectGolden(const google::protobuf::Message& message, const std::string& golden_name) {
    const std::string actual = ToJson(message) ;
    if (const char* dir = std::getenv("CMESH_GOLDEN_OUT")) {
      std::ofstream(std::string(dir) + "/" + golden_name) << actual;
    }
    const std::string path = ::cmesh::testing::SourceDir() + "/test/data/compiler/golden/" + golden_name;
    EXPECT_EQ(actual, ::cmesh::testing::ReadFile(path)) << "golden file " << path;
  }

  XdsResources resources_;
};

TEST_F(BookinfoTest, AcceptanceJasonGoesToV2EveryoneElseToV3) {
  const auto* rc = FindRoute(resources_, "9080");
  ASSERT_NE(rc, nullptr);
  const auto* vh = FindVirtualHost(*rc, "reviews.default.svc.cluster.local:9080");
  ASSERT_NE(vh, nullptr);
  ASSERT_EQ(vh->routes_size(), 2);
  const auto& jason = vh->routes(0);
  ASSERT_EQ(jason.match().headers_size(), 1);
  EXPECT_EQ(jason.match().headers(0).name(), "end-user");
  EXPECT_EQ(jason.match().headers(0).string_match().exact(), "jason");
  EXPECT_EQ(jason.route().cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  const auto& rest = vh->routes(1);
  EXPECT_EQ(rest.match().prefix(), "/");
  EXPECT_EQ(rest.match().headers_size(), 0);
  EXPECT_EQ(rest.route().cluster(), "outbound|9080|v3|reviews.default.svc.cluster.local");

  const auto* v3 = FindEndpoints(resources_, "outbound|9080|v3|reviews.default.svc.cluster.local");
  ASSERT_NE(v3, nullptr);
  // Only the two Running v3 pods; the Pending one and every other version are left out.
  EXPECT_EQ(EndpointAddresses(*v3), (std::vector<std::string>{"10.1.0.23:9080", "10.1.0.24:9080"}));
  const auto* v2 = FindEndpoints(resources_, "outbound|9080|v2|reviews.default.svc.cluster.local");
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(EndpointAddresses(*v2), (std::vector<std::string>{"10.1.0.22:9080"}));  // not the Failed pod
}

TEST_F(BookinfoTest, ClusterNames) {
  std::string names;
  for (const auto& c : resources_.clusters) names += c.resource.name() + "\n";
  const std::string path = ::cmesh::testing::SourceDir() + "/test/data/compiler/golden/productpage-cluster-names.txt";
  if (const char* dir = std::getenv("CMESH_GOLDEN_OUT")) std::ofstream(std::string(dir) + "/productpage-cluster-names.txt") << names;
  EXPECT_EQ(names, ::cmesh::testing::ReadFile(path));
}

TEST_F(BookinfoTest, RouteConfig9080) { ExpectGolden(*FindRoute(resources_, "9080"), "productpage-route-9080.json"); }

TEST_F(BookinfoTest, ReviewsV3Cluster) {
  const auto* c = FindCluster(resources_, "outbound|9080|v3|reviews.default.svc.cluster.local");
  ASSERT_NE(c, nullptr);
  ExpectGolden(*c, "productpage-cluster-reviews-v3.json");
}

TEST_F(BookinfoTest, ReviewsV3Endpoints) {
  const auto* e = FindEndpoints(resources_, "outbound|9080|v3|reviews.default.svc.cluster.local");
  ASSERT_NE(e, nullptr);
  ExpectGolden(*e, "productpage-endpoints-reviews-v3.json");
}

TEST_F(BookinfoTest, Listeners) {
  const auto* outbound = FindListener(resources_, "0.0.0.0_9080");
  ASSERT_NE(outbound, nullptr);
  ExpectGolden(*outbound, "productpage-listener-0.0.0.0_9080.json");
  const auto* virtual_outbound = FindListener(resources_, "virtualOutbound");
  ASSERT_NE(virtual_outbound, nullptr);
  ExpectGolden(*virtual_outbound, "productpage-listener-virtualOutbound.json");
  const auto* virtual_inbound = FindListener(resources_, "virtualInbound");
  ASSERT_NE(virtual_inbound, nullptr);
  ExpectGolden(*virtual_inbound, "productpage-listener-virtualInbound.json");
}

TEST_F(BookinfoTest, NoWarnings) { EXPECT_TRUE(resources_.warnings.empty()) << resources_.warnings.front(); }

}  // namespace
}  // namespace cmesh::compiler::testing
