// cmeshctl validate: exit 0 valid, 1 invalid (messages on stderr), 2 usage.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

TEST(CliValidateTest, ValidFileExitsZero) {
  auto r = RunCmeshctl({"validate", "-f", ScenarioFile("cli-valid.yaml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 object(s) valid"), std::string::npos) << r.out;
}

TEST(CliValidateTest, InvalidObjectsExitOneAndNameFileKindObjectAndField) {
  const std::string file = ScenarioFile("cli-invalid.yaml");
  auto r = RunCmeshctl({"validate", "-f", file});
  EXPECT_EQ(r.exit_code, 1);
  // Both errors are reported in one run, each naming the file, the kind and namespace/name.
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("VirtualService demo/no-hosts"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("spec.hosts"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("DestinationRule demo/bad-subset"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("spec.subsets[0].name"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("demo/hello"), std::string::npos) << "the valid objects have no error";
  EXPECT_NE(r.err.find("2 error(s)"), std::string::npos) << r.err;
}

TEST(CliValidateTest, MalformedYamlNamesFileAndLine) {
  const std::string file = ScenarioFile("cli-malformed.yaml");
  auto r = RunCmeshctl({"validate", "-f", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(file + ":"), std::string::npos) << r.err;
}

TEST(CliValidateTest, UnreadablePathIsAnError) {
  auto r = RunCmeshctl({"validate", "-f", ScenarioFile("does-not-exist.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does-not-exist.yaml"), std::string::npos) << r.err;
}

TEST(CliValidateTest, ReadsStandardInput) {
  auto valid = RunCmeshctl({"validate", "-f", "-"}, ReadFile(ScenarioFile("cli-valid.yaml")));
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  auto invalid = RunCmeshctl({"validate", "-f", "-"}, ReadFile(ScenarioFile("cli-invalid.yaml")));
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.err.find("VirtualService demo/no-hosts"), std::string::npos) << invalid.err;
}

TEST(CliValidateTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunCmeshctl({"validate"}).exit_code, 2);
  EXPECT_EQ(RunCmeshctl({"validate", ScenarioFile("cli-valid.yaml")}).exit_code, 2);  // missing -f
}

TEST(CliValidateTest, BookinfoNetworkingAndPlatformAreValid) {
  CMESH_REQUIRE_CORPUS(corpus);
  auto r = RunCmeshctl({"validate", "-f", corpus + "/istio/bookinfo/networking", "-f",
                        corpus + "/istio/bookinfo/platform"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Gateways, ServiceEntries and Deployments are warned about, never failed on.
  EXPECT_NE(r.err.find("not supported yet"), std::string::npos);
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cmesh::testing

namespace cmesh::testing {
namespace {

// Problems are listed in the order of the lines they are on, whatever order the checks ran in.
TEST(CliValidateOrderTest, ErrorsOfAFileComeInLineOrder) {
  const std::string vs =
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {name: broken, namespace: shop}\n"
      "spec:\n"
      "  hosts: [catalog]\n"
      "  http:\n"
      "  - timeout: 0.1ms\n"                              // line 7
      "    fault: {abort: {httpStatus: 700}}\n"           // line 8
      "    route:\n"
      "    - destination: {host: \"*\"}\n";               // line 10
  auto r = RunCmeshctl({"validate", "-f", "-"}, vs);
  EXPECT_EQ(r.exit_code, 1);
  const size_t l7 = r.err.find("-:7: error:");
  const size_t l8 = r.err.find("-:8: error:");
  const size_t l10 = r.err.find("-:10: error:");
  ASSERT_NE(l7, std::string::npos) << r.err;
  ASSERT_NE(l8, std::string::npos) << r.err;
  ASSERT_NE(l10, std::string::npos) << r.err;
  EXPECT_LT(l7, l8);
  EXPECT_LT(l8, l10);
}

}  // namespace
}  // namespace cmesh::testing
