// VirtualService http[] translation, one feature at a time. Expected values follow Istio's
// conventions (see /work/shared/notes/istio-conventions.md), not the code's output.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.pb.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::config::route::v3::Route;
using envoy::config::route::v3::VirtualHost;

constexpr char kClientNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";

std::string Vs(const std::string& name, const std::string& ns, const std::string& spec) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: " + name +
         "\n  namespace: " + ns + "\nspec:\n" + spec + "---\n";
}

std::string Base() {
  return ServiceYaml("reviews", "default", {"http:9080"}) + ServiceYaml("ratings", "default", {"http:9080"}) +
         ServiceYaml("multi", "default", {"http:8080", "http-admin:8081"});
}

class VsTest : public ::testing::Test {
 protected:
  // Compiles Base() + `yaml` and returns the virtual host of `service` on `port`.
  const VirtualHost& Host(const std::string& yaml, const std::string& service = "reviews", uint32_t port = 9080,
                          const std::string& node = kClientNode, const model::Labels& labels = {}) {
    result_ = CompileFor(ParseYaml(Base() + yaml), node, labels);
    const auto* rc = FindRoute(result_, std::to_string(port));
    EXPECT_NE(rc, nullptr);
    static const VirtualHost kEmpty;
    if (rc == nullptr) return kEmpty;
    const auto* vh = FindVirtualHost(*rc, service + ".default.svc.cluster.local:" + std::to_string(port));
    EXPECT_NE(vh, nullptr);
    return vh ? *vh : kEmpty;
  }
  XdsResources result_;
};

TEST_F(VsTest, UriMatchesAndIgnoreUriCase) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {exact: /a}\n    - uri: {prefix: /b}\n"
                           "    - uri: {regex: \"/c/[0-9]+\"}\n    - uri: {prefix: /D}\n      ignoreUriCase: true\n"
                           "    route:\n    - destination: {host: reviews}\n"));
  ASSERT_EQ(vh.routes_size(), 4);  // each match entry is its own route
  EXPECT_EQ(vh.routes(0).match().path(), "/a");
  EXPECT_EQ(vh.routes(1).match().prefix(), "/b");
  EXPECT_EQ(vh.routes(2).match().safe_regex().regex(), "/c/[0-9]+");
  EXPECT_EQ(vh.routes(3).match().prefix(), "/D");
  EXPECT_FALSE(vh.routes(3).match().case_sensitive().value());
  EXPECT_TRUE(vh.routes(3).match().has_case_sensitive());
  for (const auto& r : vh.routes()) EXPECT_EQ(r.route().cluster(), "outbound|9080||reviews.default.svc.cluster.local");
}

TEST_F(VsTest, HeaderPseudoHeaderAndQueryMatches) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        x-exact: {exact: a}\n"
                           "        x-prefix: {prefix: b}\n        x-regex: {regex: \"c.*\"}\n        x-present: {}\n"
                           "      withoutHeaders:\n        x-banned: {exact: yes}\n"
                           "      method: {exact: POST}\n      authority: {prefix: api.}\n      scheme: {exact: https}\n"
                           "      queryParams:\n        q: {exact: \"1\"}\n        r: {regex: \"[a-z]+\"}\n"
                           "    route:\n    - destination: {host: reviews}\n"));
  ASSERT_EQ(vh.routes_size(), 1);
  const auto& m = vh.routes(0).match();
  std::map<std::string, envoy::config::route::v3::HeaderMatcher> h;
  for (const auto& x : m.headers()) h[x.name()] = x;
  EXPECT_EQ(h["x-exact"].string_match().exact(), "a");
  EXPECT_EQ(h["x-prefix"].string_match().prefix(), "b");
  EXPECT_EQ(h["x-regex"].string_match().safe_regex().regex(), "c.*");
  EXPECT_TRUE(h["x-present"].present_match());
  EXPECT_EQ(h["x-banned"].string_match().exact(), "yes");
  EXPECT_TRUE(h["x-banned"].invert_match());
  EXPECT_FALSE(h["x-exact"].invert_match());
  EXPECT_EQ(h[":method"].string_match().exact(), "POST");
  EXPECT_EQ(h[":authority"].string_match().prefix(), "api.");
  EXPECT_EQ(h[":scheme"].string_match().exact(), "https");
  ASSERT_EQ(m.query_parameters_size(), 2);
  EXPECT_EQ(m.query_parameters(0).name(), "q");
  EXPECT_EQ(m.query_parameters(0).string_match().exact(), "1");
  EXPECT_EQ(m.query_parameters(1).string_match().safe_regex().regex(), "[a-z]+");
}

TEST_F(VsTest, FirstMatchOrderAndCatchAllShadowsLaterRules) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - name: first\n    match:\n    - name: m1\n      uri: {prefix: /x}\n"
                           "    route:\n    - destination: {host: reviews, subset: v1}\n"
                           "  - name: all\n    route:\n    - destination: {host: reviews, subset: v2}\n"
                           "  - name: never\n    route:\n    - destination: {host: reviews, subset: v3}\n"));
  ASSERT_EQ(vh.routes_size(), 2);
  EXPECT_EQ(vh.routes(0).name(), "first.m1");
  EXPECT_EQ(vh.routes(0).route().cluster(), "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(vh.routes(1).name(), "all");
  EXPECT_EQ(vh.routes(1).match().prefix(), "/");
  EXPECT_EQ(vh.routes(1).route().cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  // Istio marks every route with the VirtualService it came from.
  EXPECT_EQ(vh.routes(0).metadata().filter_metadata().at("istio").fields().at("config").string_value(),
            "/apis/networking.istio.io/v1/namespaces/default/virtual-service/r");
}

TEST_F(VsTest, NoFallbackRouteAfterUserRules) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /only}\n"
                           "    route:\n    - destination: {host: reviews}\n"));
  ASSERT_EQ(vh.routes_size(), 1);  // a request to /other matches nothing: 404, as in Istio
}

TEST_F(VsTest, WeightedDestinationsKeepRawWeightsAndDropZero) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n"
                           "      weight: 3\n    - destination: {host: reviews, subset: v2}\n      weight: 1\n"
                           "    - destination: {host: reviews, subset: v3}\n      weight: 0\n"));
  ASSERT_EQ(vh.routes_size(), 1);
  const auto& wc = vh.routes(0).route().weighted_clusters();
  ASSERT_EQ(wc.clusters_size(), 2);
  EXPECT_EQ(wc.clusters(0).name(), "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(wc.clusters(0).weight().value(), 3u);
  EXPECT_EQ(wc.clusters(1).name(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  EXPECT_EQ(wc.clusters(1).weight().value(), 1u);
}

TEST_F(VsTest, OneDestinationLeftAfterDroppingZeroIsAPlainCluster) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n"
                           "      weight: 100\n    - destination: {host: reviews, subset: v2}\n      weight: 0\n"));
  EXPECT_EQ(vh.routes(0).route().cluster(), "outbound|9080|v1|reviews.default.svc.cluster.local");
}

TEST_F(VsTest, DestinationPortResolution) {
  // To a multi-port service without a port: the listener's port; with one: that port; to a
  // single-port service: its only port, whatever the listener.
  const auto& vh = Host(Vs("m", "default",
                           "  hosts: [multi]\n  http:\n  - match:\n    - uri: {prefix: /explicit}\n"
                           "    route:\n    - destination: {host: multi, port: {number: 8081}}\n"
                           "  - match:\n    - uri: {prefix: /single}\n    route:\n    - destination: {host: ratings}\n"
                           "  - route:\n    - destination: {host: multi}\n"),
                        "multi", 8080);
  ASSERT_EQ(vh.routes_size(), 3);
  EXPECT_EQ(vh.routes(0).route().cluster(), "outbound|8081||multi.default.svc.cluster.local");
  EXPECT_EQ(vh.routes(1).route().cluster(), "outbound|9080||ratings.default.svc.cluster.local");
  EXPECT_EQ(vh.routes(2).route().cluster(), "outbound|8080||multi.default.svc.cluster.local");
  // Same VirtualService seen from the 8081 route config.
  const auto* rc = FindRoute(result_, "8081");
  const auto* vh81 = FindVirtualHost(*rc, "multi.default.svc.cluster.local:8081");
  EXPECT_EQ(vh81->routes(2).route().cluster(), "outbound|8081||multi.default.svc.cluster.local");
}

TEST_F(VsTest, PortMatchDropsForOtherListenerPorts) {
  const std::string yaml = Vs("m", "default",
                              "  hosts: [multi]\n  http:\n  - match:\n    - port: 8081\n"
                              "    route:\n    - destination: {host: multi, subset: admin}\n");
  const auto& vh81 = Host(yaml, "multi", 8081);
  ASSERT_EQ(vh81.routes_size(), 1);
  EXPECT_EQ(vh81.routes(0).route().cluster(), "outbound|8081|admin|multi.default.svc.cluster.local");
  // On 8080 the only rule drops; the service keeps its default route.
  const auto& vh80 = Host(yaml, "multi", 8080);
  ASSERT_EQ(vh80.routes_size(), 1);
  EXPECT_EQ(vh80.routes(0).name(), "default");
  EXPECT_EQ(vh80.routes(0).route().cluster(), "outbound|8080||multi.default.svc.cluster.local");
}

TEST_F(VsTest, SourceLabelsAndSourceNamespaceAreEvaluatedForTheProxy) {
  const std::string yaml = Vs("r", "default",
                              "  hosts: [reviews.default.svc.cluster.local]\n  http:\n  - match:\n"
                              "    - sourceLabels: {app: productpage}\n    route:\n"
                              "    - destination: {host: reviews.default.svc.cluster.local, subset: v2}\n"
                              "  - match:\n    - sourceNamespace: other\n    route:\n"
                              "    - destination: {host: reviews.default.svc.cluster.local, subset: v3}\n"
                              "  - route:\n    - destination: {host: reviews.default.svc.cluster.local, subset: v1}\n");
  const auto& from_pp = Host(yaml, "reviews", 9080, kClientNode, {{"app", "productpage"}, {"version", "v1"}});
  ASSERT_EQ(from_pp.routes_size(), 2);
  EXPECT_EQ(from_pp.routes(0).route().cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  // The source condition is resolved at compile time: the route itself matches everything.
  EXPECT_EQ(from_pp.routes(0).match().prefix(), "/");
  const auto& from_other_app = Host(yaml, "reviews", 9080, kClientNode, {{"app", "details"}});
  ASSERT_EQ(from_other_app.routes_size(), 1);
  EXPECT_EQ(from_other_app.routes(0).route().cluster(), "outbound|9080|v1|reviews.default.svc.cluster.local");
  const auto& from_other_ns =
      Host(yaml, "reviews", 9080, "sidecar~10.0.0.7~x.other~other.svc.cluster.local", {{"app", "details"}});
  (void)from_other_ns;
  const auto* vh = FindVirtualHost(*FindRoute(result_, "9080"), "reviews.default.svc.cluster.local:9080");
  // Istio keeps later rules after a source-only match (it is not a catch-all match), though
  // requests from this proxy always hit the first.
  ASSERT_EQ(vh->routes_size(), 2);
  EXPECT_EQ(vh->routes(0).route().cluster(), "outbound|9080|v3|reviews.default.svc.cluster.local");
  EXPECT_EQ(vh->routes(1).route().cluster(), "outbound|9080|v1|reviews.default.svc.cluster.local");
}

TEST_F(VsTest, RedirectDirectResponseAndRewrite) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /old}\n"
                           "    redirect:\n      uri: /new\n      authority: example.com\n      redirectCode: 302\n"
                           "  - match:\n    - uri: {prefix: /moved}\n    redirect:\n      uri: /x\n      scheme: https\n      port: 8443\n"
                           "  - match:\n    - uri: {prefix: /gone}\n    directResponse:\n      status: 410\n"
                           "      body:\n        string: bye\n"
                           "  - match:\n    - uri: {prefix: /api}\n    rewrite:\n      uri: /v2/api\n"
                           "      authority: internal\n    route:\n    - destination: {host: reviews}\n"
                           "  - match:\n    - uri: {prefix: /re}\n    rewrite:\n      uriRegexRewrite:\n"
                           "        match: \"^/re/(.*)$\"\n        rewrite: \"/\\\\1\"\n    route:\n    - destination: {host: reviews}\n"));
  ASSERT_EQ(vh.routes_size(), 5);
  const auto& r0 = vh.routes(0).redirect();
  EXPECT_EQ(r0.path_redirect(), "/new");
  EXPECT_EQ(r0.host_redirect(), "example.com");
  EXPECT_EQ(r0.response_code(), envoy::config::route::v3::RedirectAction::FOUND);
  const auto& r1 = vh.routes(1).redirect();
  EXPECT_EQ(r1.response_code(), envoy::config::route::v3::RedirectAction::MOVED_PERMANENTLY);  // 301 default
  EXPECT_EQ(r1.scheme_redirect(), "https");
  EXPECT_EQ(r1.port_redirect(), 8443u);
  EXPECT_EQ(vh.routes(2).direct_response().status(), 410u);
  EXPECT_EQ(vh.routes(2).direct_response().body().inline_string(), "bye");
  EXPECT_EQ(vh.routes(3).route().prefix_rewrite(), "/v2/api");
  EXPECT_EQ(vh.routes(3).route().host_rewrite_literal(), "internal");
  EXPECT_EQ(vh.routes(4).route().regex_rewrite().pattern().regex(), "^/re/(.*)$");
  EXPECT_EQ(vh.routes(4).route().regex_rewrite().substitution(), "/\\1");
}

TEST_F(VsTest, HeaderOperations) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - headers:\n      request:\n        set: {x-set: a}\n"
                           "        add: {x-add: b}\n        remove: [x-gone]\n      response:\n        set: {x-resp: c}\n"
                           "        remove: [server]\n    route:\n    - destination: {host: reviews, subset: v1}\n"
                           "      weight: 50\n      headers:\n        request:\n          set: {x-dst: v1}\n"
                           "    - destination: {host: reviews, subset: v2}\n      weight: 50\n"));
  const auto& r = vh.routes(0);
  ASSERT_EQ(r.request_headers_to_add_size(), 2);
  EXPECT_EQ(r.request_headers_to_add(0).header().key(), "x-set");
  EXPECT_EQ(r.request_headers_to_add(0).append_action(),
            envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  EXPECT_EQ(r.request_headers_to_add(1).header().key(), "x-add");
  EXPECT_EQ(r.request_headers_to_add(1).append_action(),
            envoy::config::core::v3::HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  EXPECT_EQ(std::vector<std::string>(r.request_headers_to_remove().begin(), r.request_headers_to_remove().end()),
            std::vector<std::string>{"x-gone"});
  EXPECT_EQ(r.response_headers_to_add(0).header().value(), "c");
  EXPECT_EQ(r.response_headers_to_remove(0), "server");
  const auto& c0 = r.route().weighted_clusters().clusters(0);
  ASSERT_EQ(c0.request_headers_to_add_size(), 1);
  EXPECT_EQ(c0.request_headers_to_add(0).header().key(), "x-dst");
  EXPECT_EQ(r.route().weighted_clusters().clusters(1).request_headers_to_add_size(), 0);
}

TEST_F(VsTest, TimeoutAndRetries) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /a}\n    timeout: 3s\n"
                           "    retries:\n      attempts: 4\n      perTryTimeout: 500ms\n      retryOn: \"5xx, 503,gateway-error\"\n"
                           "    route:\n    - destination: {host: reviews}\n"
                           "  - match:\n    - uri: {prefix: /b}\n    retries:\n      attempts: 0\n"
                           "    route:\n    - destination: {host: reviews}\n"
                           "  - match:\n    - uri: {prefix: /c}\n    retries:\n      attempts: 5\n"
                           "    route:\n    - destination: {host: reviews}\n"));
  const auto& a = vh.routes(0).route();
  EXPECT_EQ(a.timeout().seconds(), 3);
  EXPECT_EQ(a.retry_policy().num_retries().value(), 4u);
  EXPECT_EQ(a.retry_policy().per_try_timeout().nanos(), 500'000'000);
  EXPECT_EQ(a.retry_policy().retry_on(), "5xx,gateway-error,retriable-status-codes");
  ASSERT_EQ(a.retry_policy().retriable_status_codes_size(), 1);
  EXPECT_EQ(a.retry_policy().retriable_status_codes(0), 503u);
  EXPECT_EQ(a.retry_policy().retry_host_predicate(0).name(), "envoy.retry_host_predicates.previous_hosts");
  // attempts: 0 disables retries.
  EXPECT_FALSE(vh.routes(1).route().has_retry_policy());
  EXPECT_EQ(vh.routes(1).route().timeout().seconds(), 0);  // no timeout = 0s (disabled)
  EXPECT_TRUE(vh.routes(1).route().has_timeout());
  // attempts without retryOn: Istio's default conditions.
  EXPECT_EQ(vh.routes(2).route().retry_policy().num_retries().value(), 5u);
  EXPECT_EQ(vh.routes(2).route().retry_policy().retry_on(),
            "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
}

TEST_F(VsTest, FaultInjection) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - fault:\n      delay:\n        fixedDelay: 7s\n"
                           "        percentage: {value: 10.5}\n      abort:\n        httpStatus: 500\n"
                           "        percentage: {value: 100}\n    route:\n    - destination: {host: reviews}\n"));
  const auto& cfg = vh.routes(0).typed_per_filter_config();
  ASSERT_EQ(cfg.count("envoy.filters.http.fault"), 1u);
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  ASSERT_TRUE(cfg.at("envoy.filters.http.fault").UnpackTo(&fault));
  EXPECT_EQ(fault.delay().fixed_delay().seconds(), 7);
  EXPECT_EQ(fault.delay().percentage().numerator(), 105000u);
  EXPECT_EQ(fault.delay().percentage().denominator(), envoy::type::v3::FractionalPercent::MILLION);
  EXPECT_EQ(fault.abort().http_status(), 500u);
  EXPECT_EQ(fault.abort().percentage().numerator(), 1000000u);
}

TEST_F(VsTest, FaultWithoutPercentageLeavesItUnset) {
  // Istio writes no percentage then, and Envoy reads an absent one as 0%.
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - fault:\n      delay:\n        fixedDelay: 2s\n"
                           "      abort:\n        httpStatus: 503\n    route:\n    - destination: {host: reviews}\n"));
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  ASSERT_TRUE(vh.routes(0).typed_per_filter_config().at("envoy.filters.http.fault").UnpackTo(&fault));
  EXPECT_EQ(fault.delay().fixed_delay().seconds(), 2);
  EXPECT_FALSE(fault.delay().has_percentage());
  EXPECT_EQ(fault.abort().http_status(), 503u);
  EXPECT_FALSE(fault.abort().has_percentage());
}

TEST_F(VsTest, GrpcAbort) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - fault:\n      abort:\n        grpcStatus: UNAVAILABLE\n"
                           "        percentage: {value: 50}\n    route:\n    - destination: {host: reviews}\n"));
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  ASSERT_TRUE(vh.routes(0).typed_per_filter_config().at("envoy.filters.http.fault").UnpackTo(&fault));
  EXPECT_EQ(fault.abort().grpc_status(), 14u);
  EXPECT_EQ(fault.abort().percentage().numerator(), 500000u);
}

TEST_F(VsTest, MirrorAndMirrors) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /one}\n"
                           "    mirror: {host: ratings}\n    mirrorPercentage: {value: 25}\n"
                           "    route:\n    - destination: {host: reviews}\n"
                           "  - mirrors:\n    - destination: {host: reviews, subset: v2}\n"
                           "    - destination: {host: ratings}\n      percentage: {value: 5}\n"
                           "    route:\n    - destination: {host: reviews}\n"));
  const auto& one = vh.routes(0).route();
  ASSERT_EQ(one.request_mirror_policies_size(), 1);
  EXPECT_EQ(one.request_mirror_policies(0).cluster(), "outbound|9080||ratings.default.svc.cluster.local");
  EXPECT_EQ(one.request_mirror_policies(0).runtime_fraction().default_value().numerator(), 250000u);
  const auto& two = vh.routes(1).route();
  ASSERT_EQ(two.request_mirror_policies_size(), 2);
  EXPECT_EQ(two.request_mirror_policies(0).cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  EXPECT_EQ(two.request_mirror_policies(0).runtime_fraction().default_value().numerator(), 1000000u);  // 100%
  EXPECT_EQ(two.request_mirror_policies(1).runtime_fraction().default_value().numerator(), 50000u);
}

TEST_F(VsTest, CorsPolicy) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - corsPolicy:\n      allowOrigins:\n      - exact: https://a.com\n"
                           "      - prefix: https://b.\n      allowMethods: [GET, POST]\n      allowHeaders: [x-a]\n"
                           "      exposeHeaders: [x-b]\n      maxAge: 24h\n      allowCredentials: true\n"
                           "    route:\n    - destination: {host: reviews}\n"));
  envoy::extensions::filters::http::cors::v3::CorsPolicy cors;
  ASSERT_TRUE(vh.routes(0).typed_per_filter_config().at("envoy.filters.http.cors").UnpackTo(&cors));
  ASSERT_EQ(cors.allow_origin_string_match_size(), 2);
  EXPECT_EQ(cors.allow_origin_string_match(0).exact(), "https://a.com");
  EXPECT_EQ(cors.allow_origin_string_match(1).prefix(), "https://b.");
  EXPECT_EQ(cors.allow_methods(), "GET,POST");
  EXPECT_EQ(cors.allow_headers(), "x-a");
  EXPECT_EQ(cors.expose_headers(), "x-b");
  EXPECT_EQ(cors.max_age(), "86400");
  EXPECT_TRUE(cors.allow_credentials().value());
}

TEST_F(VsTest, RetryRemoteLocalitiesUsesPreviousPriorities) {
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /a}\n    retries:\n"
                           "      attempts: 3\n      retryRemoteLocalities: true\n    route:\n"
                           "    - destination: {host: reviews}\n  - retries:\n      attempts: 3\n"
                           "      retryRemoteLocalities: false\n    route:\n    - destination: {host: reviews}\n"));
  ASSERT_EQ(vh.routes_size(), 2);
  const auto& on = vh.routes(0).route().retry_policy();
  EXPECT_EQ(on.num_retries().value(), 3u);
  EXPECT_EQ(on.retry_priority().name(), "envoy.retry_priorities.previous_priorities");
  envoy::extensions::retry::priority::previous_priorities::v3::PreviousPrioritiesConfig config;
  ASSERT_TRUE(on.retry_priority().typed_config().UnpackTo(&config));
  EXPECT_EQ(config.update_frequency(), 2);  // Istio's value
  EXPECT_FALSE(vh.routes(1).route().retry_policy().has_retry_priority());
  for (const auto& w : result_.warnings) EXPECT_EQ(w.find("retryRemoteLocalities"), std::string::npos) << w;
}

TEST_F(VsTest, RedirectDerivePortFromRequestIsTheListenerPort) {
  // Istio: routes are built per listener port, so FROM_REQUEST_PORT is that port; a port that
  // is the scheme's default (80 for http, 443 for https) is left out of the Location.
  const auto& vh = Host(Vs("r", "default",
                           "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /a}\n    redirect:\n"
                           "      uri: /b\n      derivePort: FROM_REQUEST_PORT\n"
                           "  - match:\n    - uri: {prefix: /c}\n    redirect:\n      uri: /d\n"
                           "      derivePort: FROM_PROTOCOL_DEFAULT\n"
                           "  - match:\n    - uri: {prefix: /e}\n    redirect:\n      uri: /f\n      port: 80\n"
                           "  - match:\n    - uri: {prefix: /g}\n    redirect:\n      uri: /h\n      scheme: https\n"
                           "      port: 443\n"));
  ASSERT_EQ(vh.routes_size(), 4);
  EXPECT_EQ(vh.routes(0).redirect().port_redirect(), 9080u);
  EXPECT_EQ(vh.routes(1).redirect().port_redirect(), 0u);
  EXPECT_EQ(vh.routes(2).redirect().port_redirect(), 0u);
  EXPECT_EQ(vh.routes(3).redirect().port_redirect(), 0u);
  for (const auto& w : result_.warnings) EXPECT_EQ(w.find("derivePort"), std::string::npos) << w;
  // On port 80 itself the derived port is http's default and is dropped too.
  result_ = CompileFor(ParseYaml(ServiceYaml("web", "default", {"http:80"}) +
                                 Vs("w", "default",
                                    "  hosts: [web]\n  http:\n  - redirect:\n      uri: /b\n"
                                    "      derivePort: FROM_REQUEST_PORT\n")),
                       kClientNode);
  EXPECT_EQ(FindVirtualHost(*FindRoute(result_, "80"), "web.default.svc.cluster.local:80")
                ->routes(0)
                .redirect()
                .port_redirect(),
            0u);
}

TEST_F(VsTest, ShortHostsAreRelativeToTheVirtualServiceNamespace) {
  // "reviews" in namespace "other" is reviews.other, not reviews.default.
  const auto& vh = Host(Vs("r", "other", "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}\n"));
  ASSERT_EQ(vh.routes_size(), 1);
  EXPECT_EQ(vh.routes(0).name(), "default");
  // "reviews.default" from another namespace names the same service.
  const auto& vh2 = Host(Vs("r", "other", "  hosts: [reviews.default]\n  http:\n  - route:\n"
                                           "    - destination: {host: reviews.default, subset: v9}\n"));
  EXPECT_EQ(vh2.routes(0).route().cluster(), "outbound|9080|v9|reviews.default.svc.cluster.local");
}

TEST_F(VsTest, WildcardHosts) {
  const auto& vh = Host(Vs("w", "default", "  hosts: [\"*.default.svc.cluster.local\"]\n  http:\n  - route:\n"
                                           "    - destination: {host: ratings}\n"));
  EXPECT_EQ(vh.routes(0).route().cluster(), "outbound|9080||ratings.default.svc.cluster.local");
}

TEST_F(VsTest, GatewayOnlyVirtualServicesDoNotApplyToSidecars) {
  const std::string route = "  http:\n  - route:\n    - destination: {host: reviews, subset: v2}\n";
  EXPECT_EQ(Host(Vs("g", "default", "  hosts: [reviews]\n  gateways: [my-gateway]\n" + route)).routes(0).name(), "default");
  EXPECT_EQ(Host(Vs("g", "default", "  hosts: [reviews]\n  gateways: [my-gateway, mesh]\n" + route)).routes(0).route().cluster(),
            "outbound|9080|v2|reviews.default.svc.cluster.local");
}

TEST_F(VsTest, ExportToLimitsVirtualServices) {
  const std::string yaml = Vs("private", "default", "  hosts: [reviews.default.svc.cluster.local]\n  exportTo: [\".\"]\n"
                                                     "  http:\n  - route:\n    - destination: {host: reviews, subset: v2}\n");
  EXPECT_EQ(Host(yaml).routes(0).route().cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  const auto& other = Host(yaml, "reviews", 9080, "sidecar~10.0.0.8~x.other~other.svc.cluster.local");
  EXPECT_EQ(other.routes(0).name(), "default");
}

TEST_F(VsTest, TwoVirtualServicesForOneHostFirstWinsWithAWarning) {
  const std::string yaml =
      Vs("b-second", "default", "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v2}\n") +
      Vs("a-first", "default", "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n");
  const auto& vh = Host(yaml);
  ASSERT_EQ(vh.routes_size(), 1);
  EXPECT_EQ(vh.routes(0).route().cluster(), "outbound|9080|v1|reviews.default.svc.cluster.local");
  bool found = false;
  for (const auto& w : result_.warnings) {
    found = found || (w.find("default/a-first") != std::string::npos && w.find("default/b-second") != std::string::npos);
  }
  EXPECT_TRUE(found);
}

TEST_F(VsTest, PrivateVirtualServiceOfTheProxyNamespaceComesFirst) {
  // Istio reads a namespace's private VirtualServices before public ones.
  const std::string yaml =
      Vs("a-public", "team", "  hosts: [reviews.default.svc.cluster.local]\n  http:\n  - route:\n"
                             "    - destination: {host: reviews.default.svc.cluster.local, subset: v1}\n") +
      Vs("z-private", "default", "  hosts: [reviews]\n  exportTo: [\".\"]\n  http:\n  - route:\n"
                                 "    - destination: {host: reviews, subset: v2}\n");
  EXPECT_EQ(Host(yaml).routes(0).route().cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
}

}  // namespace
}  // namespace cmesh::compiler::testing
