// cmeshctl compile: one JSON (or YAML) object with the four resource arrays, and the bookinfo
// acceptance scenario (jason → v2, everyone else → v3, v3's ClusterLoadAssignment holds v3 pods).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_runner.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using nlohmann::json;

constexpr char kHelloNode[] = "sidecar~10.2.0.5~client-0.demo~demo.svc.cluster.local";

std::vector<std::string> BookinfoArgs(const std::string& corpus) {
  const std::string b = corpus + "/istio/bookinfo";
  return {"-f", b + "/platform/bookinfo.yaml",
          "-f", b + "/networking/destination-rule-all.yaml",
          "-f", b + "/networking/virtual-service-reviews-jason-v2-v3.yaml",
          "-f", ScenarioFile("bookinfo-pods.yaml")};
}

const json* FindByName(const json& array, const std::string& key, const std::string& name) {
  for (const auto& e : array) {
    if (e.value(key, "") == name) return &e;
  }
  return nullptr;
}

std::set<std::string> Addresses(const json& cla) {
  std::set<std::string> out;
  for (const auto& locality : cla.value("endpoints", json::array())) {
    for (const auto& lb : locality.value("lbEndpoints", json::array())) {
      out.insert(lb["endpoint"]["address"]["socketAddress"]["address"].get<std::string>());
    }
  }
  return out;
}

TEST(CliCompileTest, PrintsOneJsonObjectWithTheFourArrays) {
  auto r = RunCmeshctl({"compile", "-f", ScenarioFile("cli-valid.yaml"), "--proxy", kHelloNode});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);  // throws (fails the test) on anything but one JSON value
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.size(), 4u);
  for (const char* key : {"listeners", "routes", "clusters", "endpoints"}) {
    ASSERT_TRUE(doc.contains(key)) << key;
    EXPECT_TRUE(doc[key].is_array()) << key;
    EXPECT_FALSE(doc[key].empty()) << key;
  }
  // Protobuf's JSON mapping: lowerCamelCase names and typed Any values.
  EXPECT_NE(FindByName(doc["clusters"], "name", "outbound|8080|v1|hello.demo.svc.cluster.local"), nullptr);
  EXPECT_NE(r.out.find("\"@type\": \"type.googleapis.com/envoy.extensions.filters.network."
                       "http_connection_manager.v3.HttpConnectionManager\""),
            std::string::npos);
  EXPECT_NE(FindByName(doc["routes"], "name", "8080"), nullptr);
}

TEST(CliCompileTest, YamlOutputHasTheSameShape) {
  auto as_json = RunCmeshctl({"compile", "-f", ScenarioFile("cli-valid.yaml"), "--proxy", kHelloNode});
  auto as_yaml = RunCmeshctl({"compile", "-f", ScenarioFile("cli-valid.yaml"), "--proxy", kHelloNode, "-o", "yaml"});
  ASSERT_EQ(as_yaml.exit_code, 0) << as_yaml.err;
  YAML::Node doc = YAML::Load(as_yaml.out);
  json j = json::parse(as_json.out);
  for (const char* key : {"listeners", "routes", "clusters", "endpoints"}) {
    ASSERT_TRUE(doc[key].IsSequence()) << key;
    EXPECT_EQ(doc[key].size(), j[key].size()) << key;
  }
  // A string that looks like a number stays a string: the route config is named "8080".
  EXPECT_EQ(doc["routes"][0]["name"].Tag(), "!");
  EXPECT_EQ(doc["routes"][0]["name"].as<std::string>(), "8080");
}

TEST(CliCompileTest, ReadsStandardInput) {
  auto r = RunCmeshctl({"compile", "-f", "-", "--proxy", kHelloNode}, ReadFile(ScenarioFile("cli-valid.yaml")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_NE(FindByName(doc["clusters"], "name", "outbound|8080||hello.demo.svc.cluster.local"), nullptr);
}

TEST(CliCompileTest, InvalidObjectsAreReportedAndTheValidOnesStillCompiled) {
  auto r = RunCmeshctl({"compile", "-f", ScenarioFile("cli-invalid.yaml"), "--proxy", kHelloNode});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("VirtualService demo/no-hosts"), std::string::npos) << r.err;
  json doc = json::parse(r.out);
  // The valid VirtualService demo/hello still shapes the hello virtual host.
  const json* rc = FindByName(doc["routes"], "name", "8080");
  ASSERT_NE(rc, nullptr);
  const json* vh = FindByName((*rc)["virtualHosts"], "name", "hello.demo.svc.cluster.local:8080");
  ASSERT_NE(vh, nullptr);
  EXPECT_NE((*vh)["routes"][0].dump().find("virtual-service/hello"), std::string::npos) << vh->dump();
}

TEST(CliCompileTest, UsageErrors) {
  const std::string f = ScenarioFile("cli-valid.yaml");
  auto no_proxy = RunCmeshctl({"compile", "-f", f});
  EXPECT_EQ(no_proxy.exit_code, 2);
  EXPECT_NE(no_proxy.err.find("--proxy"), std::string::npos);
  auto bad_proxy = RunCmeshctl({"compile", "-f", f, "--proxy", "not-a-node-id"});
  EXPECT_EQ(bad_proxy.exit_code, 2);
  EXPECT_NE(bad_proxy.err.find("invalid --proxy"), std::string::npos);
  EXPECT_EQ(RunCmeshctl({"compile", "-f", f, "--proxy", kHelloNode, "-o", "xml"}).exit_code, 2);
  EXPECT_EQ(RunCmeshctl({"compile", "-f", f, "--proxy", kHelloNode, "--proxy-labels", "novalue"}).exit_code, 2);
  EXPECT_EQ(RunCmeshctl({"compile", "--proxy", kHelloNode}).exit_code, 2);
  EXPECT_TRUE(no_proxy.out.empty());
}

TEST(CliCompileTest, AcceptanceJasonGoesToV2AndEveryoneElseToV3) {
  CMESH_REQUIRE_CORPUS(corpus);
  auto args = BookinfoArgs(corpus);
  args.insert(args.begin(), "compile");
  args.insert(args.end(), {"--proxy", kProductpageNode});
  auto r = RunCmeshctl(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);

  const json* rc = FindByName(doc["routes"], "name", "9080");
  ASSERT_NE(rc, nullptr);
  const json* vh = FindByName((*rc)["virtualHosts"], "name", "reviews.default.svc.cluster.local:9080");
  ASSERT_NE(vh, nullptr);
  const json& routes = (*vh)["routes"];
  ASSERT_EQ(routes.size(), 2u) << routes.dump(2);
  // Rule 1: header end-user exact jason → the v2 subset cluster.
  const json& headers = routes[0]["match"]["headers"];
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0]["name"], "end-user");
  EXPECT_EQ(headers[0]["stringMatch"]["exact"], "jason");
  EXPECT_EQ(routes[0]["route"]["cluster"], "outbound|9080|v2|reviews.default.svc.cluster.local");
  // Rule 2: everything else → v3.
  EXPECT_EQ(routes[1]["match"]["prefix"], "/");
  EXPECT_FALSE(routes[1]["match"].contains("headers"));
  EXPECT_EQ(routes[1]["route"]["cluster"], "outbound|9080|v3|reviews.default.svc.cluster.local");

  // The subset clusters exist and their ClusterLoadAssignments hold only that version's Running pods.
  for (const char* subset : {"v1", "v2", "v3"}) {
    std::string name = std::string("outbound|9080|") + subset + "|reviews.default.svc.cluster.local";
    EXPECT_NE(FindByName(doc["clusters"], "name", name), nullptr) << name;
  }
  const json* v3 = FindByName(doc["endpoints"], "clusterName", "outbound|9080|v3|reviews.default.svc.cluster.local");
  ASSERT_NE(v3, nullptr);
  EXPECT_EQ(Addresses(*v3), (std::set<std::string>{"10.1.0.23", "10.1.0.24"}));  // not Pending/Failed
  const json* v2 = FindByName(doc["endpoints"], "clusterName", "outbound|9080|v2|reviews.default.svc.cluster.local");
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(Addresses(*v2), (std::set<std::string>{"10.1.0.22"}));
  const json* all = FindByName(doc["endpoints"], "clusterName", "outbound|9080||reviews.default.svc.cluster.local");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(Addresses(*all), (std::set<std::string>{"10.1.0.21", "10.1.0.22", "10.1.0.23", "10.1.0.24"}));
}

TEST(CliCompileTest, ProxyLabelsComeFromThePodUnlessGiven) {
  // sourceLabels only fit a proxy with those labels: the pod's labels (app=client) by default,
  // replaced entirely by --proxy-labels.
  const std::string config = R"(
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo}
spec:
  selector: {app: hello}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client-0, namespace: demo, labels: {app: client}}
spec: {containers: [{name: c, image: i}]}
status: {phase: Running, podIP: 10.2.0.5}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hello, namespace: demo}
spec:
  hosts: [hello]
  http:
  - match: [{sourceLabels: {app: client}}]
    directResponse: {status: 418}
  - route: [{destination: {host: hello}}]
)";
  auto from_pod = RunCmeshctl({"compile", "-f", "-", "--proxy", kHelloNode}, config);
  ASSERT_EQ(from_pod.exit_code, 0) << from_pod.err;
  EXPECT_NE(from_pod.out.find("\"status\": 418"), std::string::npos);
  auto overridden = RunCmeshctl({"compile", "-f", "-", "--proxy", kHelloNode, "--proxy-labels", "app=other"}, config);
  ASSERT_EQ(overridden.exit_code, 0) << overridden.err;
  EXPECT_EQ(overridden.out.find("\"status\": 418"), std::string::npos);
}

}  // namespace
}  // namespace cmesh::testing

namespace cmesh::testing {
namespace {

TEST(CliCompileFilterTest, NameKeepsTheClusterAndItsLoadAssignmentOnly) {
  const std::string name = "outbound|8080|v1|hello.demo.svc.cluster.local";
  auto r = RunCmeshctl({"compile", "-f", ScenarioFile("cli-valid.yaml"), "--proxy", kHelloNode, "--name", name});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_TRUE(doc["listeners"].empty());
  EXPECT_TRUE(doc["routes"].empty());
  ASSERT_EQ(doc["clusters"].size(), 1u);
  EXPECT_EQ(doc["clusters"][0]["name"], name);
  ASSERT_EQ(doc["endpoints"].size(), 1u);
  EXPECT_EQ(doc["endpoints"][0]["clusterName"], name);
}

TEST(CliCompileFilterTest, SummaryListsEachResourceWithItsVersion) {
  auto r = RunCmeshctl({"compile", "-f", ScenarioFile("cli-valid.yaml"), "--proxy", kHelloNode, "--summary"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("listener   virtualOutbound"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("route      8080"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cluster    outbound|8080|v1|hello.demo.svc.cluster.local"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("endpoints  outbound|8080|v1|hello.demo.svc.cluster.local"), std::string::npos) << r.out;
  // Not JSON: one line per resource, each ending with a non-empty version.
  EXPECT_EQ(r.out.find('{'), std::string::npos);
}

}  // namespace
}  // namespace cmesh::testing
