// Our own table of invalid objects: one or more per validation rule, each asserting the field
// path and the kind of reason (Kubernetes-style: Required value, Invalid value, ...).
#include <gtest/gtest.h>

#include <algorithm>

#include "cmesh/model/parser.h"

namespace cmesh::model {
namespace {

struct Case {
  const char* name;
  const char* kind;  // "vs" or "dr"
  const char* spec;  // the spec body, indented by two spaces
  const char* field;
  const char* reason;  // prefix of the message
};

std::string Wrap(const Case& c) {
  std::string kind = std::string(c.kind) == "vs" ? "VirtualService" : "DestinationRule";
  return "apiVersion: networking.istio.io/v1\nkind: " + kind +
         "\nmetadata:\n  name: bad\n  namespace: test\nspec:\n" + c.spec;
}

// A valid route to append where a case needs one.
#define ROUTE "    route:\n    - destination:\n        host: reviews\n"
// An http list holding just one valid route.
#define ONLY_ROUTE "  - route:\n    - destination:\n        host: reviews\n"

const Case kCases[] = {
    // --- VirtualService: hosts
    // No hosts is valid only for a delegate that another VirtualService refers to (see
    // HostlessVirtualServiceIsValidAsADelegate); alone, it is rejected.
    {"HostsRequired", "vs", "  http:\n" ONLY_ROUTE, "spec.hosts", "Required value"},
    // What a delegate cannot have:
    {"DelegateWithGateways", "vs", "  gateways: [mesh]\n  http:\n" ONLY_ROUTE, "spec.gateways", "Invalid value"},
    {"DelegateWithTcpRoutes", "vs", "  tcp:\n" ONLY_ROUTE, "spec.tcp", "Invalid value"},
    {"DelegateDelegatingAgain", "vs", "  http:\n  - delegate: {name: other}\n", "spec.http[0].delegate",
     "Invalid value"},
    {"WildcardHostForMesh", "vs", "  hosts: ['*']\n  http:\n" ONLY_ROUTE, "spec.hosts[0]",
     "Invalid value"},
    {"BadHostName", "vs", "  hosts: ['bad_host!']\n  http:\n" ONLY_ROUTE, "spec.hosts[0]",
     "Invalid value"},
    {"NoRoutesAtAll", "vs", "  hosts: [reviews]\n", "spec", "Required value"},
    // --- destinations
    {"DestinationHostRequired", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        subset: v1\n",
     "spec.http[0].route[0].destination.host", "Required value"},
    {"DestinationHostWildcard", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: '*'\n",
     "spec.http[0].route[0].destination.host", "Invalid value"},
    {"DestinationSubsetNotDns1123", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n"
     "        subset: V_1\n",
     "spec.http[0].route[0].destination.subset", "Invalid value"},
    {"DestinationPortZero", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n"
     "        port: {number: 0}\n",
     "spec.http[0].route[0].destination.port.number", "Invalid value"},
    {"DestinationPortTooLarge", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n"
     "        port: {number: 70000}\n",
     "spec.http[0].route[0].destination.port.number", "Invalid value"},
    // --- weights
    {"NegativeWeight", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n"
     "      weight: -1\n    - destination: {host: reviews, subset: v2}\n      weight: 101\n",
     "spec.http[0].route[0].weight", "Invalid value"},
    {"ZeroTotalWeight", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n"
     "      weight: 0\n    - destination: {host: reviews, subset: v2}\n      weight: 0\n",
     "spec.http[0].route", "Invalid value"},
    {"WeightIsAString", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n"
     "      weight: \"50\"\n",
     "spec.http[0].route[0].weight", "Invalid value: expected a 32-bit integer"},
    // --- header names and regexes
    {"BadMatchHeaderName", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        'bad header': {exact: x}\n" ROUTE,
     "spec.http[0].match[0].headers[bad header]", "Invalid value"},
    {"BadWithoutHeaderName", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - withoutHeaders:\n        'a:b': {}\n" ROUTE,
     "spec.http[0].match[0].withoutHeaders[a:b]", "Invalid value"},
    {"BadUriRegex", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {regex: '(('}\n" ROUTE,
     "spec.http[0].match[0].uri.regex", "Invalid value"},
    {"Re2RejectsBackreference", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {regex: '(a)\\1'}\n" ROUTE,
     "spec.http[0].match[0].uri.regex", "Invalid value"},
    {"BadHeaderRegex", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        x-id: {regex: '[a-'}\n" ROUTE,
     "spec.http[0].match[0].headers[x-id].regex", "Invalid value"},
    {"BadQueryParamRegex", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - queryParams:\n        q: {regex: '*x'}\n" ROUTE,
     "spec.http[0].match[0].queryParams[q].regex", "Invalid value"},
    {"BadAuthorityRegex", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - authority: {regex: '(?<name>x'}\n" ROUTE,
     "spec.http[0].match[0].authority.regex", "Invalid value"},
    {"EmptyMethodPrefix", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - method: {prefix: ''}\n" ROUTE,
     "spec.http[0].match[0].method.prefix", "Invalid value"},
    {"EmptyRegex", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {regex: ''}\n" ROUTE,
     "spec.http[0].match[0].uri.regex", "Invalid value"},
    {"NullHeaderMatch", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        x-id:\n" ROUTE,
     "spec.http[0].match[0].headers[x-id]", "Invalid value"},
    {"JwtClaimRouteOnMesh", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        '@request.auth.claims.group': {exact: a}\n" ROUTE,
     "spec.http[0].match[0].headers[@request.auth.claims.group]", "Invalid value"},
    {"BadGatewayName", "vs",
     "  hosts: [reviews]\n  gateways: ['istio-system/Bad_GW']\n  http:\n" ONLY_ROUTE,
     "spec.gateways[0]", "Invalid value"},
    {"SetHostHeaderInResponse", "vs",
     "  hosts: [reviews]\n  http:\n  - headers:\n      response:\n        set: {host: x}\n" ROUTE,
     "spec.http[0].headers.response.set[host]", "Invalid value"},
    {"AuthorityRewrittenTwice", "vs",
     "  hosts: [reviews]\n  http:\n  - rewrite: {authority: a}\n    headers:\n      request:\n        set: {':authority': b}\n" ROUTE,
     "spec.http[0].headers.request", "Invalid value"},
    {"EmptyRewrite", "vs", "  hosts: [reviews]\n  http:\n  - rewrite: {}\n" ROUTE,
     "spec.http[0].rewrite", "Required value"},
    {"RegexRewriteWithoutReplacement", "vs",
     "  hosts: [reviews]\n  http:\n  - rewrite:\n      uriRegexRewrite: {match: '^/a'}\n" ROUTE,
     "spec.http[0].rewrite.uriRegexRewrite.rewrite", "Required value"},
    {"RetryPolicyWithZeroAttempts", "vs",
     "  hosts: [reviews]\n  http:\n  - retries: {attempts: 0, retryOn: 5xx}\n" ROUTE,
     "spec.http[0].retries", "Invalid value"},
    {"MirrorAndMirrors", "vs",
     "  hosts: [reviews]\n  http:\n  - mirror: {host: a}\n    mirrors:\n    - destination: {host: b}\n" ROUTE,
     "spec.http[0].mirrors", "Invalid value"},
    {"FaultWithDirectResponse", "vs",
     "  hosts: [reviews]\n  http:\n  - directResponse: {status: 503}\n    fault:\n      abort: {httpStatus: 500}\n",
     "spec.http[0].fault", "Invalid value"},
    {"EmptyAllowOrigin", "vs",
     "  hosts: [reviews]\n  http:\n  - corsPolicy:\n      allowOrigins:\n      - exact: ''\n" ROUTE,
     "spec.http[0].corsPolicy.allowOrigins[0]", "Invalid value"},
    {"TwoStringMatchKinds", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /a, exact: /b}\n" ROUTE,
     "spec.http[0].match[0].uri", "Invalid value"},
    {"BadAllowOriginRegex", "vs",
     "  hosts: [reviews]\n  http:\n  - corsPolicy:\n      allowOrigins:\n      - regex: '(('\n" ROUTE,
     "spec.http[0].corsPolicy.allowOrigins[0].regex", "Invalid value"},
    {"BadUriRegexRewrite", "vs",
     "  hosts: [reviews]\n  http:\n  - rewrite:\n      uriRegexRewrite: {match: '((', rewrite: /}\n" ROUTE,
     "spec.http[0].rewrite.uriRegexRewrite.match", "Invalid value"},
    {"BadSetHeaderName", "vs",
     "  hosts: [reviews]\n  http:\n  - headers:\n      request:\n        set: {'bad header': x}\n" ROUTE,
     "spec.http[0].headers.request.set[bad header]", "Invalid value"},
    {"BadRemoveHeaderName", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n"
     "      headers:\n        response:\n          remove: ['x y']\n",
     "spec.http[0].route[0].headers.response.remove[0]", "Invalid value"},
    // --- durations
    {"TimeoutBelowOneMs", "vs", "  hosts: [reviews]\n  http:\n  - timeout: 0.5ms\n" ROUTE,
     "spec.http[0].timeout", "Invalid value"},
    {"TimeoutNotADuration", "vs", "  hosts: [reviews]\n  http:\n  - timeout: soon\n" ROUTE,
     "spec.http[0].timeout", "Invalid value"},
    {"TimeoutNotMsPrecision", "vs", "  hosts: [reviews]\n  http:\n  - timeout: 1500us\n" ROUTE,
     "spec.http[0].timeout", "Invalid value"},
    {"PerTryTimeoutZero", "vs",
     "  hosts: [reviews]\n  http:\n  - retries: {attempts: 3, perTryTimeout: 0s}\n" ROUTE,
     "spec.http[0].retries.perTryTimeout", "Invalid value"},
    {"FixedDelayZero", "vs",
     "  hosts: [reviews]\n  http:\n  - fault:\n      delay: {fixedDelay: 0s, percentage: {value: 10}}\n" ROUTE,
     "spec.http[0].fault.delay.fixedDelay", "Invalid value"},
    {"CorsMaxAgeFraction", "vs",
     "  hosts: [reviews]\n  http:\n  - corsPolicy: {maxAge: 1500ms}\n" ROUTE,
     "spec.http[0].corsPolicy.maxAge", "Invalid value"},
    // --- fault, percentages
    {"AbortStatusTooHigh", "vs",
     "  hosts: [reviews]\n  http:\n  - fault:\n      abort: {httpStatus: 600}\n" ROUTE,
     "spec.http[0].fault.abort.httpStatus", "Invalid value"},
    {"AbortStatusTooLow", "vs",
     "  hosts: [reviews]\n  http:\n  - fault:\n      abort: {httpStatus: 199}\n" ROUTE,
     "spec.http[0].fault.abort.httpStatus", "Invalid value"},
    {"AbortBadGrpcStatus", "vs",
     "  hosts: [reviews]\n  http:\n  - fault:\n      abort: {grpcStatus: NOPE}\n" ROUTE,
     "spec.http[0].fault.abort.grpcStatus", "Invalid value"},
    {"AbortPercentageTooHigh", "vs",
     "  hosts: [reviews]\n  http:\n  - fault:\n      abort: {httpStatus: 503, percentage: {value: 100.5}}\n" ROUTE,
     "spec.http[0].fault.abort.percentage.value", "Invalid value"},
    {"DelayPercentageNegative", "vs",
     "  hosts: [reviews]\n  http:\n  - fault:\n      delay: {fixedDelay: 1s, percentage: {value: -1}}\n" ROUTE,
     "spec.http[0].fault.delay.percentage.value", "Invalid value"},
    {"EmptyFault", "vs", "  hosts: [reviews]\n  http:\n  - fault: {}\n" ROUTE, "spec.http[0].fault",
     "Required value"},
    {"MirrorPercentageTooHigh", "vs",
     "  hosts: [reviews]\n  http:\n  - mirror: {host: shadow}\n    mirrorPercentage: {value: 150}\n" ROUTE,
     "spec.http[0].mirrorPercentage.value", "Invalid value"},
    {"MirrorsPercentageNegative", "vs",
     "  hosts: [reviews]\n  http:\n  - mirrors:\n    - destination: {host: shadow}\n"
     "      percentage: {value: -1}\n" ROUTE,
     "spec.http[0].mirrors[0].percentage.value", "Invalid value"},
    {"MirrorHostRequired", "vs",
     "  hosts: [reviews]\n  http:\n  - mirror: {subset: v1}\n" ROUTE, "spec.http[0].mirror.host",
     "Required value"},
    // --- retries
    {"NegativeAttempts", "vs", "  hosts: [reviews]\n  http:\n  - retries: {attempts: -1}\n" ROUTE,
     "spec.http[0].retries.attempts", "Invalid value"},
    {"BadRetryOn", "vs",
     "  hosts: [reviews]\n  http:\n  - retries: {attempts: 2, retryOn: '5xx,bogus'}\n" ROUTE,
     "spec.http[0].retries.retryOn", "Invalid value"},
    // --- ports
    {"MatchPortTooLarge", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - port: 70000\n" ROUTE,
     "spec.http[0].match[0].port", "Invalid value"},
    {"NegativePortIsATypeError", "vs",
     "  hosts: [reviews]\n  http:\n  - match:\n    - port: -1\n" ROUTE,
     "spec.http[0].match[0].port", "Invalid value"},
    // --- actions and conflicts
    {"NoAction", "vs", "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /}\n",
     "spec.http[0]", "Required value"},
    {"RouteAndRedirect", "vs",
     "  hosts: [reviews]\n  http:\n  - redirect: {uri: /new}\n" ROUTE, "spec.http[0]",
     "Invalid value"},
    {"RouteAndDirectResponse", "vs",
     "  hosts: [reviews]\n  http:\n  - directResponse: {status: 200}\n" ROUTE, "spec.http[0]",
     "Invalid value"},
    {"RedirectAndRewrite", "vs",
     "  hosts: [reviews]\n  http:\n  - redirect: {uri: /new}\n    rewrite: {uri: /old}\n",
     "spec.http[0].rewrite", "Invalid value"},
    {"RedirectCodeNot3xx", "vs",
     "  hosts: [reviews]\n  http:\n  - redirect: {uri: /new, redirectCode: 200}\n",
     "spec.http[0].redirect.redirectCode", "Invalid value"},
    {"RedirectWithoutTarget", "vs", "  hosts: [reviews]\n  http:\n  - redirect: {redirectCode: 302}\n",
     "spec.http[0].redirect", "Required value"},
    {"DirectResponseBadStatus", "vs",
     "  hosts: [reviews]\n  http:\n  - directResponse: {status: 700}\n",
     "spec.http[0].directResponse.status", "Invalid value"},
    {"UnknownDerivePort", "vs",
     "  hosts: [reviews]\n  http:\n  - redirect: {uri: /x, derivePort: SOMETIMES}\n",
     "spec.http[0].redirect.derivePort", "Unsupported value"},
    {"CorsBadMethod", "vs",
     "  hosts: [reviews]\n  http:\n  - corsPolicy: {allowMethods: [FETCH]}\n" ROUTE,
     "spec.http[0].corsPolicy.allowMethods[0]", "Invalid value"},
    {"TcpRouteWithoutDestinations", "vs",
     "  hosts: [reviews]\n  tcp:\n  - match:\n    - port: 3306\n", "spec.tcp[0].route",
     "Required value"},
    {"TcpBadSubnet", "vs",
     "  hosts: [reviews]\n  tcp:\n  - match:\n    - destinationSubnets: [10.0.0.0/33]\n"
     "    route:\n    - destination: {host: db}\n",
     "spec.tcp[0].match[0].destinationSubnets[0]", "Invalid value"},
    {"TlsRouteWithoutSni", "vs",
     "  hosts: [a.example.com]\n  tls:\n  - match:\n    - port: 443\n"
     "    route:\n    - destination: {host: a.example.com}\n",
     "spec.tls[0].match[0].sniHosts", "Required value"},
    {"TlsRouteWithoutDestination", "vs",
     "  hosts: [a.example.com]\n  tls:\n  - match:\n    - sniHosts: [a.example.com]\n",
     "spec.tls[0].route", "Required value"},
    {"BadExportTo", "vs", "  hosts: [reviews]\n  exportTo: [Bad_NS]\n  http:\n" ONLY_ROUTE,
     "spec.exportTo[0]", "Invalid value"},
    // --- strict decoding
    {"UnknownSpecField", "vs", "  hosts: [reviews]\n  htp: []\n  http:\n" ONLY_ROUTE, "spec.htp",
     "unknown field"},
    {"UnknownNestedField", "vs",
     "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subst: v1}\n",
     "spec.http[0].route[0].destination.subst", "unknown field"},
    {"HostsNotAList", "vs", "  hosts: reviews\n  http:\n" ONLY_ROUTE, "spec.hosts",
     "Invalid value: expected a list"},

    // --- DestinationRule
    {"DrHostRequired", "dr", "  subsets:\n  - name: v1\n", "spec.host", "Required value"},
    {"SubsetNameNotDns1123", "dr", "  host: reviews\n  subsets:\n  - name: V1\n",
     "spec.subsets[0].name", "Invalid value"},
    {"SubsetNameRequired", "dr", "  host: reviews\n  subsets:\n  - labels: {version: v1}\n",
     "spec.subsets[0].name", "Required value"},
    {"DuplicateSubset", "dr", "  host: reviews\n  subsets:\n  - name: v1\n  - name: v1\n",
     "spec.subsets[1].name", "Duplicate value"},
    {"BadSubsetLabelValue", "dr",
     "  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: 'bad value!'}\n",
     "spec.subsets[0].labels[version]", "Invalid value"},
    {"ConnectTimeoutZero", "dr",
     "  host: reviews\n  trafficPolicy:\n    connectionPool:\n      tcp: {connectTimeout: 0s}\n",
     "spec.trafficPolicy.connectionPool.tcp.connectTimeout", "Invalid value"},
    {"NegativeMaxConnections", "dr",
     "  host: reviews\n  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnections: -1}\n",
     "spec.trafficPolicy.connectionPool.tcp.maxConnections", "Invalid value"},
    {"NegativePendingRequests", "dr",
     "  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http: {http1MaxPendingRequests: -5}\n",
     "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests", "Invalid value"},
    {"EmptyConnectionPool", "dr", "  host: reviews\n  trafficPolicy:\n    connectionPool: {}\n",
     "spec.trafficPolicy.connectionPool", "Required value"},
    {"Http2KeepAliveIntervalTooSmall", "dr",
     "  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http:\n"
     "        http2KeepAlive: {interval: 100us}\n",
     "spec.trafficPolicy.connectionPool.http.http2KeepAlive.interval", "Invalid value"},
    {"OutlierIntervalTooSmall", "dr",
     "  host: reviews\n  trafficPolicy:\n    outlierDetection: {interval: 0.5ms}\n",
     "spec.trafficPolicy.outlierDetection.interval", "Invalid value"},
    {"OutlierEjectionPercent", "dr",
     "  host: reviews\n  trafficPolicy:\n    outlierDetection: {maxEjectionPercent: 101}\n",
     "spec.trafficPolicy.outlierDetection.maxEjectionPercent", "Invalid value"},
    {"OutlierNegativeErrors", "dr",
     "  host: reviews\n  trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: -1}\n",
     "spec.trafficPolicy.outlierDetection.consecutive5xxErrors", "Invalid value"},
    {"UnknownSimpleLb", "dr",
     "  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}\n",
     "spec.trafficPolicy.loadBalancer.simple", "Unsupported value"},
    {"UnknownTlsMode", "dr", "  host: reviews\n  trafficPolicy:\n    tls: {mode: SOMETIMES}\n",
     "spec.trafficPolicy.tls.mode", "Unsupported value"},
    {"UnknownH2Upgrade", "dr",
     "  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http: {h2UpgradePolicy: MAYBE}\n",
     "spec.trafficPolicy.connectionPool.http.h2UpgradePolicy", "Unsupported value"},
    {"HashCookieWithoutName", "dr",
     "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
     "        httpCookie: {ttl: 10s}\n",
     "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name", "Required value"},
    {"MaglevTableNotPrime", "dr",
     "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
     "        useSourceIp: true\n        maglev: {tableSize: 1000}\n",
     "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize", "Invalid value"},
    {"RingSizeWithHashAlgorithm", "dr",
     "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
     "        useSourceIp: true\n        minimumRingSize: 10\n        ringHash: {minimumRingSize: 10}\n",
     "spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize", "Invalid value"},
    {"EmptyTrafficPolicy", "dr", "  host: reviews\n  trafficPolicy: {}\n", "spec.trafficPolicy",
     "Invalid value"},
    {"EmptyPortLevelPolicy", "dr",
     "  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n",
     "spec.trafficPolicy.portLevelSettings[0]", "Required value"},
    {"LocalOriginWithoutSplit", "dr",
     "  host: reviews\n  trafficPolicy:\n    outlierDetection: {consecutiveLocalOriginFailures: 3}\n",
     "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures", "Invalid value"},
    {"UpgradeWithClientProtocol", "dr",
     "  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}\n",
     "spec.trafficPolicy.connectionPool.http.useClientProtocol", "Invalid value"},
    {"WarmupMinimumPercentAbove100", "dr",
     "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      warmup: {duration: 10s, minimumPercent: 101}\n",
     "spec.trafficPolicy.loadBalancer.warmup.minimumPercent", "Invalid value"},
    {"WarmupAggressionBelowOne", "dr",
     "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      warmup: {duration: 10s, aggression: 0.5}\n",
     "spec.trafficPolicy.loadBalancer.warmup.aggression", "Invalid value"},
    {"PortLevelPortMissing", "dr",
     "  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - tls: {mode: SIMPLE}\n",
     "spec.trafficPolicy.portLevelSettings[0].port", "Required value"},
    {"PortLevelPortZero", "dr",
     "  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 0}\n"
     "      tls: {mode: SIMPLE}\n",
     "spec.trafficPolicy.portLevelSettings[0].port.number", "Invalid value"},
    {"SubsetPolicyChecked", "dr",
     "  host: reviews\n  subsets:\n  - name: v1\n    trafficPolicy:\n      connectionPool:\n"
     "        http: {idleTimeout: 0s}\n",
     "spec.subsets[0].trafficPolicy.connectionPool.http.idleTimeout", "Invalid value"},
    {"UnknownTrafficPolicyField", "dr",
     "  host: reviews\n  trafficPolicy:\n    loadBalancr: {simple: RANDOM}\n",
     "spec.trafficPolicy.loadBalancr", "unknown field"},
    {"MaxRequestsIsAString", "dr",
     "  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http: {http2MaxRequests: lots}\n",
     "spec.trafficPolicy.connectionPool.http.http2MaxRequests", "Invalid value: expected"},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class InvalidObjectTest : public ::testing::TestWithParam<Case> {};

TEST_P(InvalidObjectTest, IsRejectedWithFieldAndReason) {
  const Case& c = GetParam();
  std::string text = Wrap(c);
  ParseResult r = ParseDocuments(text, "table.yaml");
  std::string dump;
  for (const auto& d : r.diagnostics) dump += d.ToString() + "\n";
  EXPECT_FALSE(r.ok()) << "accepted:\n" << text;
  EXPECT_TRUE(r.config.virtual_services.empty());
  EXPECT_TRUE(r.config.destination_rules.empty());
  bool found = false;
  for (const auto& d : r.diagnostics) {
    if (d.severity == Severity::kError && d.field == c.field &&
        d.message.rfind(c.reason, 0) == 0) {
      found = true;
      EXPECT_EQ(d.object.file, "table.yaml");
      // The line of the field (or its closest parent): within the spec, which starts on line 6.
      EXPECT_GE(d.object.line, 6);
      EXPECT_LE(d.object.line, static_cast<int>(std::count(text.begin(), text.end(), '\n')));
      EXPECT_EQ(d.object.ns, "test");
      EXPECT_EQ(d.object.name, "bad");
      EXPECT_EQ(d.object.kind,
                std::string(c.kind) == "vs" ? "VirtualService" : "DestinationRule");
    }
  }
  EXPECT_TRUE(found) << "expected " << c.field << ": " << c.reason << "\nin:\n"
                     << text << "\ngot:\n"
                     << dump;
}

// Istio reads a VirtualService without hosts as a delegate (VirtualService chaining): valid when
// a root VirtualService refers to it.
TEST(InvalidObjectTest, HostlessVirtualServiceIsValidAsADelegate) {
  Case c{"Delegate", "vs", "  http:\n" ONLY_ROUTE, "", ""};
  const std::string root =
      "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: root, namespace: other}\n"
      "spec:\n  hosts: [reviews.default.svc.cluster.local]\n  http:\n"
      "  - delegate: {name: bad, namespace: test}\n";
  ParseResult r = ParseDocuments(Wrap(c) + root, "table.yaml");
  std::string dump;
  for (const auto& d : r.diagnostics) dump += d.ToString() + "\n";
  EXPECT_TRUE(r.ok()) << dump;
  ASSERT_EQ(r.config.virtual_services.size(), 2u);
}

// Alone, the same hostless VirtualService is an error that names the missing delegation.
TEST(InvalidObjectTest, HostlessVirtualServiceWithoutARootIsRejected) {
  Case c{"Delegate", "vs", "  http:\n" ONLY_ROUTE, "", ""};
  ParseResult r = ParseDocuments(Wrap(c), "table.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].field, "spec.hosts");
  EXPECT_NE(r.diagnostics[0].message.find("no VirtualService in the config delegates to"), std::string::npos)
      << r.diagnostics[0].message;
  EXPECT_TRUE(r.config.virtual_services.empty());
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidObjectTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

// The same documents made valid again must pass, so the table cannot pass by rejecting
// everything.
TEST(InvalidObjectTest, BaselinesAreValid) {
  const Case ok_vs{"", "vs", "  hosts: [reviews]\n  http:\n" ONLY_ROUTE, "", ""};
  const Case ok_dr{"", "dr", "  host: reviews\n  subsets:\n  - name: v1\n", "", ""};
  for (const Case& c : {ok_vs, ok_dr}) {
    ParseResult r = ParseDocuments(Wrap(c), "table.yaml");
    EXPECT_TRUE(r.diagnostics.empty()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].ToString());
  }
}

}  // namespace
}  // namespace cmesh::model
