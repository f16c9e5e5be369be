// Istio's own validation data set, judged as Istio judges it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "cmesh/model/parser.h"
#include "test_paths.h"

namespace cmesh::model {
namespace {

using ::testing::HasSubstr;

std::string Dump(const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const auto& d : diags) out += d.ToString() + "\n";
  return out;
}

// Splits a multi-document file on "---" lines, keeping each document's text.
std::vector<std::string> SplitDocuments(const std::string& text) {
  std::vector<std::string> docs(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("---", 0) == 0) {
      docs.emplace_back();
      continue;
    }
    docs.back() += line + "\n";
  }
  return docs;
}

TEST(CorpusValidationTest, ValidDestinationRulesAreAccepted) {
  CMESH_REQUIRE_CORPUS(corpus);
  std::string file = corpus + "/istio/validation/destinationrule-valid.yaml";
  ParseResult r = ParseDocuments(testing::ReadFile(file), file);
  EXPECT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  // Four documents, all DestinationRules.
  ASSERT_EQ(r.config.destination_rules.size(), 4u);
  const auto& warm = r.config.destination_rules[2].traffic_policy->load_balancer->warmup;
  ASSERT_TRUE(warm.has_value());
  EXPECT_EQ(warm->duration->nanos, 300LL * 1000000000);
  EXPECT_EQ(warm->minimum_percent, 5.0);
  EXPECT_EQ(warm->aggression, 5.0);
  const auto& http = r.config.destination_rules[3].traffic_policy->connection_pool->http;
  EXPECT_EQ(http->http2_keepalive_interval->nanos, 15LL * 1000000000);
  EXPECT_EQ(http->http2_keepalive_timeout->nanos, 5LL * 1000000000);
}

class VersionedCorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VersionedCorpusTest, IsAccepted) {
  CMESH_REQUIRE_CORPUS(corpus);
  std::string file = corpus + "/istio/validation/" + GetParam();
  ParseResult r = ParseDocuments(testing::ReadFile(file), file);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  std::string version = GetParam().substr(std::string("networking-").size());
  version = version.substr(0, version.find('-'));
  if (GetParam().find("VirtualService") != std::string::npos) {
    ASSERT_EQ(r.config.virtual_services.size(), 1u);
    const VirtualService& vs = r.config.virtual_services[0];
    EXPECT_EQ(vs.api_version, "networking.istio.io/" + version);
    ASSERT_EQ(vs.http.size(), 1u);
    ASSERT_EQ(vs.http[0].route.size(), 2u);
    EXPECT_EQ(vs.http[0].route[0].weight, 75);
    EXPECT_EQ(vs.http[0].route[1].destination.subset, "v2");
  } else {
    ASSERT_EQ(r.config.destination_rules.size(), 1u);
    EXPECT_EQ(r.config.destination_rules[0].api_version, "networking.istio.io/" + version);
    EXPECT_EQ(r.config.destination_rules[0].subsets.size(), 2u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllVersions, VersionedCorpusTest,
    ::testing::Values("networking-v1alpha3-VirtualService.yaml",
                      "networking-v1beta1-VirtualService.yaml", "networking-v1-VirtualService.yaml",
                      "networking-v1alpha3-DestinationRule.yaml",
                      "networking-v1beta1-DestinationRule.yaml",
                      "networking-v1-DestinationRule.yaml"),
    [](const auto& info) {
      std::string name = info.param.substr(0, info.param.find('.'));
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

// Every document of destinationrule-invalid.yaml carries Istio's expected error in `_err`, as
// "<field path>: <reason>". Our error must name the same field and the same kind of reason.
TEST(CorpusValidationTest, InvalidDestinationRulesAreRejectedForTheGivenReason) {
  CMESH_REQUIRE_CORPUS(corpus);
  std::string file = corpus + "/istio/validation/destinationrule-invalid.yaml";
  int checked = 0;
  for (const std::string& doc : SplitDocuments(testing::ReadFile(file))) {
    auto pos = doc.find("_err:");
    ASSERT_NE(pos, std::string::npos) << doc;
    std::string err = doc.substr(pos + 5, doc.find('\n', pos) - pos - 5);
    err.erase(0, err.find_first_not_of(" '\""));
    err.erase(err.find_last_not_of(" '\"") + 1);
    auto sep = err.find(": ");
    ASSERT_NE(sep, std::string::npos) << err;
    std::string field = err.substr(0, sep);
    std::string reason = err.substr(sep + 2);

    ParseResult r = ParseDocuments(doc, file);
    EXPECT_FALSE(r.ok()) << "accepted although Istio says: " << err;
    EXPECT_TRUE(r.config.destination_rules.empty());
    bool found = false;
    for (const auto& d : r.diagnostics) {
      if (d.severity == Severity::kError && d.field == field &&
          d.message.rfind(reason, 0) == 0) {
        found = true;
        EXPECT_EQ(d.object.kind, "DestinationRule");
        EXPECT_EQ(d.object.name, "bookinfo-ratings");
        EXPECT_EQ(d.object.ns, "default");
        EXPECT_THAT(d.ToString(), HasSubstr(field + ": " + reason));
      }
    }
    EXPECT_TRUE(found) << "expected " << err << "\ngot:\n" << Dump(r.diagnostics);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

}  // namespace
}  // namespace cmesh::model
