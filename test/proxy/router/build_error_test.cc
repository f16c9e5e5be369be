// Every way Build refuses a RouteConfiguration, and that the error names where and why (the
// caller NACKs with it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "route_table_test_util.h"

namespace cmesh::router::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A configuration whose virtual host "shop" holds one route named "r" built from `route_body`
// (the JSON members of the route other than its name).
std::string WithRoute(const std::string& route_body, const std::string& vhost_extra = "",
                      const std::string& config_extra = "") {
  return R"({"name": "9080", )" + (config_extra.empty() ? "" : config_extra + ", ") +
         R"("virtualHosts": [{"name": "shop", "domains": ["shop"], )" +
         (vhost_extra.empty() ? "" : vhost_extra + ", ") + R"("routes": [{"name": "r", )" +
         route_body + "}]}]}";
}

std::string Forward(const std::string& match, const std::string& action_extra = "") {
  return R"("match": )" + match + R"(, "route": {"cluster": "c")" +
         (action_extra.empty() ? "" : ", " + action_extra) + "}";
}

const std::string kPrefix = R"({"prefix": "/"})";

TEST(BuildErrorTest, ValidConfigurationBuilds) {
  // The baseline the other cases modify: it must build, or they would pass for the wrong reason.
  EXPECT_TRUE(BuildJson(WithRoute(Forward(kPrefix))));
}

TEST(BuildErrorTest, ErrorsNameConfigurationVirtualHostAndRoute) {
  std::string e = BuildErrorJson(WithRoute(Forward(R"({"safeRegex": {"regex": "/a("}})")));
  EXPECT_THAT(e, AllOf(HasSubstr("route configuration \"9080\""), HasSubstr("virtual host \"shop\""),
                       HasSubstr("route #0 \"r\""), HasSubstr("safe_regex"),
                       HasSubstr("invalid RE2 regex \"/a(\"")));
}

TEST(BuildErrorTest, InvalidRegexesEverywhere) {
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(
                  R"({"prefix": "/", "headers": [{"name": "h", "stringMatch": {"safeRegex": {"regex": "[z-a]"}}}]})"))),
              AllOf(HasSubstr("header matcher \"h\""), HasSubstr("invalid RE2 regex")));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(
                  R"({"prefix": "/", "headers": [{"name": "h", "safeRegexMatch": {"regex": "*"}}]})"))),
              HasSubstr("invalid RE2 regex"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(
                  R"({"prefix": "/", "queryParameters": [{"name": "q", "stringMatch": {"safeRegex": {"regex": "(("}}}]})"))),
              AllOf(HasSubstr("query parameter matcher \"q\""), HasSubstr("invalid RE2 regex")));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("regexRewrite": {"pattern": {"regex": "("}, "substitution": "x"})"))),
              AllOf(HasSubstr("regex_rewrite"), HasSubstr("invalid RE2 regex")));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("regexRewrite": {"pattern": {"regex": "^/(a)$"}, "substitution": "\\2"})"))),
              HasSubstr("invalid substitution"));
}

TEST(BuildErrorTest, RegexProgramTooLarge) {
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"safeRegex": {"regex": "/[a-z]{100}"}})"))),
              HasSubstr("above the limit of 100"));
}

TEST(BuildErrorTest, UnsupportedMatchKinds) {
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"connectMatcher": {}})"))),
              HasSubstr("field connect_matcher is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"prefix": "/", "runtimeFraction": {"defaultValue": {"numerator": 50}}})"))),
              HasSubstr("field runtime_fraction is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"prefix": "/", "tlsContext": {"presented": true}})"))),
              HasSubstr("field tls_context is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"headers": [{"name": "a"}]})"))),
              HasSubstr("no supported path specifier"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(
                  R"({"prefix": "/", "headers": [{"name": "a", "stringMatch": {"prefix": ""}}]})"))),
              HasSubstr("empty prefix"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"prefix": "/", "headers": [{"name": "a b"}]})"))),
              HasSubstr("invalid header name"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"prefix": "/", "queryParameters": [{"name": ""}]})"))),
              HasSubstr("empty name"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(R"({"pathSeparatedPrefix": "/api/"})"))),
              HasSubstr("path_separated_prefix"));
}

TEST(BuildErrorTest, WeightedClusters) {
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": [
      {"name": "a", "weight": 0}, {"name": "b"}]}})")),
              AllOf(HasSubstr("route #0 \"r\""), HasSubstr("weighted_clusters"),
                    HasSubstr("sum of the weights must be greater than 0")));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": []}})")),
              HasSubstr("no clusters"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": [
      {"name": "a", "weight": 4294967295}, {"name": "b", "weight": 1}]}})")),
              HasSubstr("exceeds"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": [
      {"name": "", "weight": 1}]}})")),
              HasSubstr("empty cluster name"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"weightedClusters": {"headerName": "x", "clusters": [
      {"name": "a", "weight": 1}]}})")),
              HasSubstr("field header_name is not supported"));
}

TEST(BuildErrorTest, ClusterSpecifiers) {
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"clusterHeader": "x-cluster"})")),
              HasSubstr("field cluster_header is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"timeout": "1s"})")),
              HasSubstr("cluster specifier must be cluster or weighted_clusters"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "route": {"cluster": ""})")),
              HasSubstr("empty cluster name"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"})")),
              HasSubstr("the action must be route, redirect or direct_response"));
}

TEST(BuildErrorTest, UnimplementedActionFields) {
  for (const char* field : {R"("autoHostRewrite": true)", R"("hedgePolicy": {"hedgeOnPerTryTimeout": true})",
                            R"("rateLimits": [{"stage": 1}])",
                            R"("upgradeConfigs": [{"upgradeType": "websocket"}])",
                            R"("appendXForwardedHost": true)", R"("priority": "HIGH")",
                            R"("maxStreamDuration": {"grpcTimeoutHeaderOffset": "1s"})"}) {
    EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, field))), HasSubstr("is not supported")) << field;
  }
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("prefixRewrite": "/a", "regexRewrite": {"pattern": {"regex": "a"}, "substitution": "b"})"))),
              HasSubstr("only one of prefix_rewrite and regex_rewrite"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("timeout": "-1s")"))),
              HasSubstr("negative duration"));
}

TEST(BuildErrorTest, UnimplementedVirtualHostAndConfigurationFields) {
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix), R"("requireTls": "ALL")")),
              AllOf(HasSubstr("virtual host \"shop\""), HasSubstr("field require_tls is not supported")));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix), R"("cors": {"allowMethods": "GET"})")),
              HasSubstr("field cors is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix), "", R"("internalOnlyHeaders": ["x-internal"])")),
              HasSubstr("field internal_only_headers is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix), "", R"("vhds": {})")),
              HasSubstr("field vhds is not supported"));
}

TEST(BuildErrorTest, Domains) {
  EXPECT_THAT(BuildErrorJson(R"({"name": "80", "virtualHosts": [
      {"name": "a", "domains": ["x.com"], "routes": []},
      {"name": "b", "domains": ["X.COM"], "routes": []}]})"),
              AllOf(HasSubstr("virtual host \"b\""), HasSubstr("domain \"X.COM\" is listed more than once")));
  EXPECT_THAT(BuildErrorJson(R"({"name": "80", "virtualHosts": [
      {"name": "a", "domains": ["*"], "routes": []}, {"name": "b", "domains": ["*"], "routes": []}]})"),
              HasSubstr("listed more than once"));
  EXPECT_THAT(BuildErrorJson(R"({"name": "80", "virtualHosts": [{"name": "a", "domains": [], "routes": []}]})"),
              HasSubstr("no domains"));
  EXPECT_THAT(BuildErrorJson(R"({"name": "80", "virtualHosts": [{"name": "a", "domains": [""], "routes": []}]})"),
              HasSubstr("empty domain"));
  EXPECT_THAT(BuildErrorJson(R"({"name": "80", "virtualHosts": [{"domains": ["a"], "routes": []}]})"),
              HasSubstr("needs a name"));
}

TEST(BuildErrorTest, DirectResponses) {
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "directResponse": {"status": 100})")),
              HasSubstr("100 is not in [200, 600)"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "directResponse": {"status": 200, "body": {"inlineString": "12345"}})",
                                       "", R"("maxDirectResponseBodySizeBytes": 4)")),
              HasSubstr("above the maximum of 4"));
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "directResponse": {"status": 200, "body": {"filename": "/etc/passwd"}})")),
              HasSubstr("field filename is not supported"));
}

TEST(BuildErrorTest, Redirects) {
  EXPECT_THAT(BuildErrorJson(WithRoute(R"("match": {"prefix": "/"}, "redirect": {"portRedirect": 70000})")),
              HasSubstr("not a port"));
}

TEST(BuildErrorTest, PerFilterConfigs) {
  const std::string wrong_type = R"("typedPerFilterConfig": {"envoy.filters.http.fault":
      {"@type": "type.googleapis.com/envoy.config.route.v3.RouteAction", "cluster": "x"}})";
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix) + ", " + wrong_type)),
              AllOf(HasSubstr("route #0 \"r\""), HasSubstr("envoy.filters.http.fault"),
                    HasSubstr("unknown config type type.googleapis.com/envoy.config.route.v3.RouteAction")));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix), wrong_type)),
              AllOf(HasSubstr("virtual host \"shop\""), HasSubstr("unknown config type")));
  const std::string ext_authz = R"("typedPerFilterConfig": {"envoy.filters.http.ext_authz":
      {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"}})";
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix) + ", " + ext_authz)),
              HasSubstr("runs no HTTP filter envoy.filters.http.ext_authz"));
  const std::string cors_wrong_type = R"("typedPerFilterConfig": {"envoy.filters.http.cors":
      {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"}})";
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix) + ", " + cors_wrong_type)),
              HasSubstr("want envoy.extensions.filters.http.cors.v3.CorsPolicy"));
}

TEST(BuildErrorTest, Faults) {
  auto fault = [](const std::string& body) {
    return WithRoute(Forward(kPrefix) + R"(, "typedPerFilterConfig": {"envoy.filters.http.fault":
        {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault", )" + body + "}}");
  };
  EXPECT_THAT(BuildErrorJson(fault(R"("abort": {"httpStatus": 600})")), HasSubstr("600 is not in [200, 600)"));
  EXPECT_THAT(BuildErrorJson(fault(R"("abort": {"httpStatus": 199})")), HasSubstr("199 is not in"));
  EXPECT_THAT(BuildErrorJson(fault(R"("abort": {"headerAbort": {}})")), HasSubstr("field header_abort is not supported"));
  EXPECT_THAT(BuildErrorJson(fault(R"("delay": {"headerDelay": {}})")), HasSubstr("field header_delay is not supported"));
  EXPECT_THAT(BuildErrorJson(fault(R"("delay": {"percentage": {"numerator": 1}})")), HasSubstr("fixed_delay"));
  EXPECT_THAT(BuildErrorJson(fault(R"("upstreamCluster": "x")")), HasSubstr("field upstream_cluster is not supported"));
  EXPECT_THAT(BuildErrorJson(fault(R"("maxActiveFaults": 3)")), HasSubstr("field max_active_faults is not supported"));
}

TEST(BuildErrorTest, RetryPolicies) {
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("retryPolicy": {"retryOn": "5xx,bogus"})"))),
              AllOf(HasSubstr("retry_on"), HasSubstr("\"bogus\"")));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("retryPolicy": {"retryHostPredicate": [{"name": "envoy.retry_host_predicates.omit_canary_hosts"}]})"))),
              HasSubstr("omit_canary_hosts is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("retryPolicy": {"retryHostPredicate": [{"name": "envoy.retry_host_predicates.previous_hosts",
      "typedConfig": {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"}}]})"))),
              HasSubstr("previous_hosts only"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("retryPolicy": {"retriableStatusCodes": [1000]})"))),
              HasSubstr("not an HTTP status"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix, R"("retryPolicy": {"perTryIdleTimeout": "1s"})"))),
              HasSubstr("field per_try_idle_timeout is not supported"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix), R"("retryPolicy": {"retryOn": "nope"})")),
              AllOf(HasSubstr("virtual host \"shop\""), HasSubstr("\"nope\"")));
}

TEST(BuildErrorTest, HeaderOperations) {
  auto add = [](const std::string& option) {
    return WithRoute(Forward(kPrefix) + R"(, "requestHeadersToAdd": [)" + option + "]");
  };
  EXPECT_THAT(BuildErrorJson(add(R"({"header": {"key": ":path", "value": "/x"}})")),
              HasSubstr("pseudo-header :path may not be modified"));
  EXPECT_THAT(BuildErrorJson(add(R"({"header": {"key": "Host", "value": "x"}})")),
              HasSubstr("host header may not be modified"));
  EXPECT_THAT(BuildErrorJson(add(R"({"header": {"key": "x", "value": "v"}, "append": true, "appendAction": "ADD_IF_ABSENT"})")),
              HasSubstr("both append and append_action"));
  EXPECT_THAT(BuildErrorJson(add(R"({"header": {"key": "x-ip", "value": "%DOWNSTREAM_REMOTE_ADDRESS%"}})")),
              HasSubstr("substitution formatter"));
  EXPECT_THAT(BuildErrorJson(add(R"({"header": {"key": "bad name", "value": "v"}})")),
              HasSubstr("invalid header name"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix) + R"(, "responseHeadersToRemove": [":status"])")),
              HasSubstr("pseudo-header :status"));
  EXPECT_THAT(BuildErrorJson(WithRoute(Forward(kPrefix), "", R"("requestHeadersToRemove": ["host"])")),
              AllOf(HasSubstr("route configuration \"9080\""), HasSubstr("host header may not be modified")));
}

}  // namespace
}  // namespace cmesh::router::testing
