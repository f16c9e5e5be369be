// Istio's bookinfo sample parses cleanly; unsupported kinds only warn.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "cmesh/model/parser.h"
#include "test_paths.h"

namespace cmesh::model {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  ParseResult result;
  std::string dump;
};

Parsed ParseDir(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  Parsed out;
  for (const auto& f : files) {
    ParseResult r = ParseDocuments(testing::ReadFile(f), f);
    out.result.config.Merge(std::move(r.config));
    for (auto& d : r.diagnostics) {
      out.dump += d.ToString() + "\n";
      out.result.diagnostics.push_back(std::move(d));
    }
  }
  return out;
}

TEST(BookinfoParseTest, NetworkingHasNoErrors) {
  CMESH_REQUIRE_CORPUS(corpus);
  Parsed p = ParseDir(corpus + "/istio/bookinfo/networking");
  EXPECT_TRUE(p.result.ok()) << p.dump;
  // Gateways and the ServiceEntry of egress-rule-google-apis are warned about, by kind.
  EXPECT_THAT(p.dump, HasSubstr("Gateway is not supported yet; ignored"));
  EXPECT_THAT(p.dump, HasSubstr("ServiceEntry is not supported yet; ignored"));
  for (const auto& d : p.result.diagnostics) {
    EXPECT_EQ(d.severity, Severity::kWarning) << d.ToString();
    EXPECT_FALSE(d.object.file.empty());
    EXPECT_GT(d.object.line, 0);
  }
  EXPECT_FALSE(p.result.config.virtual_services.empty());
  EXPECT_FALSE(p.result.config.destination_rules.empty());
}

TEST(BookinfoParseTest, PlatformHasNoErrors) {
  CMESH_REQUIRE_CORPUS(corpus);
  Parsed p = ParseDir(corpus + "/istio/bookinfo/platform");
  EXPECT_TRUE(p.result.ok()) << p.dump;
  EXPECT_THAT(p.dump, HasSubstr("Deployment is not supported yet; ignored"));
  EXPECT_THAT(p.dump, HasSubstr("ServiceAccount is not supported yet; ignored"));
  const auto& services = p.result.config.services;
  auto reviews = std::find_if(services.begin(), services.end(),
                              [](const Service& s) { return s.meta.name == "reviews"; });
  ASSERT_NE(reviews, services.end());
  EXPECT_EQ(reviews->meta.ns, "default");
  ASSERT_EQ(reviews->ports.size(), 1u);
  EXPECT_EQ(reviews->ports[0].port, 9080u);
  EXPECT_EQ(reviews->ports[0].name, "http");
  EXPECT_EQ(reviews->ports[0].target_port.number, 9080u);  // absent targetPort = port
  EXPECT_EQ(reviews->selector, (Labels{{"app", "reviews"}}));
}

TEST(BookinfoParseTest, ReviewsDestinationRuleSubsets) {
  CMESH_REQUIRE_CORPUS(corpus);
  std::string file = corpus + "/istio/bookinfo/networking/destination-rule-all.yaml";
  ParseResult r = ParseDocuments(testing::ReadFile(file), file);
  ASSERT_TRUE(r.ok());
  auto dr = std::find_if(r.config.destination_rules.begin(), r.config.destination_rules.end(),
                         [](const DestinationRule& d) { return d.meta.name == "reviews"; });
  ASSERT_NE(dr, r.config.destination_rules.end());
  EXPECT_EQ(dr->host, "reviews");
  EXPECT_EQ(dr->meta.ns, "default");
  EXPECT_EQ(dr->api_version, "networking.istio.io/v1");
  ASSERT_EQ(dr->subsets.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    std::string v = "v" + std::to_string(i + 1);
    EXPECT_EQ(dr->subsets[i].name, v);
    EXPECT_EQ(dr->subsets[i].labels, (Labels{{"version", v}}));
  }
  EXPECT_EQ(dr->origin.file, file);
  EXPECT_GT(dr->origin.line, 1);  // not the first document of the file
  EXPECT_NE(dr->origin.content_hash, 0u);
}

TEST(BookinfoParseTest, JasonHeaderMatch) {
  CMESH_REQUIRE_CORPUS(corpus);
  std::string file = corpus + "/istio/bookinfo/networking/virtual-service-reviews-jason-v2-v3.yaml";
  ParseResult r = ParseDocuments(testing::ReadFile(file), file);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  const VirtualService& vs = r.config.virtual_services[0];
  EXPECT_EQ(vs.hosts, std::vector<std::string>{"reviews"});
  ASSERT_EQ(vs.http.size(), 2u);
  ASSERT_EQ(vs.http[0].match.size(), 1u);
  const auto& headers = vs.http[0].match[0].headers;
  ASSERT_EQ(headers.count("end-user"), 1u);
  EXPECT_EQ(headers.at("end-user"), (StringMatch{StringMatch::Kind::kExact, "jason"}));
  ASSERT_EQ(vs.http[0].route.size(), 1u);
  EXPECT_EQ(vs.http[0].route[0].destination.host, "reviews");
  EXPECT_EQ(vs.http[0].route[0].destination.subset, "v2");
  EXPECT_TRUE(vs.http[1].match.empty());
  EXPECT_EQ(vs.http[1].route[0].destination.subset, "v3");
}

TEST(BookinfoParseTest, FaultInjectionDecoded) {
  CMESH_REQUIRE_CORPUS(corpus);
  std::string file = corpus + "/istio/bookinfo/networking/virtual-service-ratings-test-delay.yaml";
  ParseResult r = ParseDocuments(testing::ReadFile(file), file);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  const HTTPRoute& h = r.config.virtual_services[0].http[0];
  ASSERT_TRUE(h.fault && h.fault->delay);
  EXPECT_EQ(h.fault->delay->fixed_delay->nanos, 7LL * 1000000000);
  EXPECT_EQ(h.fault->delay->percentage, 100.0);
}

}  // namespace
}  // namespace cmesh::model
