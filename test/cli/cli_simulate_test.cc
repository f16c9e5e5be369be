// cmeshctl simulate: the explanation names the listener, the VirtualService rule and the cluster.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

std::vector<std::string> Simulate(const std::string& corpus, std::vector<std::string> extra) {
  const std::string b = corpus + "/istio/bookinfo";
  std::vector<std::string> args = {"simulate",
                                   "-f", b + "/platform/bookinfo.yaml",
                                   "-f", b + "/networking/destination-rule-all.yaml",
                                   "-f", b + "/networking/virtual-service-reviews-jason-v2-v3.yaml",
                                   "-f", ScenarioFile("bookinfo-pods.yaml"),
                                   "--proxy", kProductpageNode};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(CliSimulateTest, JasonIsExplainedAsTheFirstRuleToV2) {
  CMESH_REQUIRE_CORPUS(corpus);
  auto r = RunCmeshctl(Simulate(corpus, {"--url", "http://reviews:9080/reviews/0", "-H", "end-user: jason"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Listener:        0.0.0.0_9080"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Route config:    9080"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reviews.default.svc.cluster.local:9080"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("VirtualService:  default/reviews, http[0].match[0]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("route to cluster outbound|9080|v2|reviews.default.svc.cluster.local"), std::string::npos)
      << r.out;
}

TEST(CliSimulateTest, EveryoneElseIsTheSecondRuleToV3) {
  CMESH_REQUIRE_CORPUS(corpus);
  auto r = RunCmeshctl(Simulate(corpus, {"--url", "http://reviews:9080/reviews/0", "-H", "end-user: mike"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("VirtualService:  default/reviews, http[1]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("route to cluster outbound|9080|v3|reviews.default.svc.cluster.local"), std::string::npos)
      << r.out;
}

TEST(CliSimulateTest, ServiceWithoutVirtualServiceUsesTheDefaultRoute) {
  CMESH_REQUIRE_CORPUS(corpus);
  auto r = RunCmeshctl(Simulate(corpus, {"--url", "http://ratings.default:9080/ratings/0"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("default route, no VirtualService"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outbound|9080||ratings.default.svc.cluster.local"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Timeout:         0s (disabled)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 retries"), std::string::npos) << r.out;
}

TEST(CliSimulateTest, JsonOutput) {
  CMESH_REQUIRE_CORPUS(corpus);
  auto r = RunCmeshctl(Simulate(corpus, {"--url", "http://reviews:9080/", "-H", "end-user: jason", "-o", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "cluster");
  EXPECT_EQ(j["cluster"], "outbound|9080|v2|reviews.default.svc.cluster.local");
  EXPECT_EQ(j["virtualService"]["namespace"], "default");
  EXPECT_EQ(j["virtualService"]["name"], "reviews");
  EXPECT_EQ(j["virtualService"]["rule"], "http[0].match[0]");
  EXPECT_EQ(j["routeConfig"], "9080");
}

TEST(CliSimulateTest, UnknownHostOnAnUnknownPortPassesThrough) {
  CMESH_REQUIRE_CORPUS(corpus);
  auto r = RunCmeshctl(Simulate(corpus, {"--url", "http://example.com/"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("virtualOutbound"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PassthroughCluster"), std::string::npos) << r.out;
}

TEST(CliSimulateTest, UsageErrors) {
  const std::string f = ScenarioFile("cli-valid.yaml");
  const std::string node = "sidecar~10.2.0.5~client-0.demo~demo.svc.cluster.local";
  auto no_url = RunCmeshctl({"simulate", "-f", f, "--proxy", node});
  EXPECT_EQ(no_url.exit_code, 2);
  EXPECT_NE(no_url.err.find("--url"), std::string::npos);
  auto bad_url = RunCmeshctl({"simulate", "-f", f, "--proxy", node, "--url", "hello:8080"});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_NE(bad_url.err.find("invalid URL"), std::string::npos);
  auto bad_header = RunCmeshctl({"simulate", "-f", f, "--proxy", node, "--url", "http://hello:8080/", "-H", "nocolon"});
  EXPECT_EQ(bad_header.exit_code, 2);
  EXPECT_NE(bad_header.err.find("Name: value"), std::string::npos);
}

TEST(CliSimulateTest, MethodAndStdin) {
  const std::string config = R"(
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo}
spec:
  selector: {app: hello}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hello, namespace: demo}
spec:
  hosts: [hello]
  http:
  - name: writes
    match: [{method: {exact: POST}}]
    directResponse: {status: 405}
  - name: reads
    route: [{destination: {host: hello}}]
)";
  const std::string node = "sidecar~10.2.0.5~client-0.demo~demo.svc.cluster.local";
  auto post = RunCmeshctl({"simulate", "-f", "-", "--proxy", node, "--url", "http://hello:8080/x", "-X", "POST"}, config);
  ASSERT_EQ(post.exit_code, 0) << post.err;
  EXPECT_NE(post.out.find("direct response 405"), std::string::npos) << post.out;
  EXPECT_NE(post.out.find("demo/hello, rule \"writes\", http[0]"), std::string::npos) << post.out;
  auto get = RunCmeshctl({"simulate", "-f", "-", "--proxy", node, "--url", "http://hello:8080/x"}, config);
  EXPECT_NE(get.out.find("outbound|8080||hello.demo.svc.cluster.local"), std::string::npos) << get.out;
}

}  // namespace
}  // namespace cmesh::testing
