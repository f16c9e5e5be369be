// Decoding of every field the model keeps: VirtualService, DestinationRule, Kubernetes objects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/model/parser.h"

namespace cmesh::model {
namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kSec = 1000 * kMs;

std::string Dump(const ParseResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += d.ToString() + "\n";
  return out;
}

TEST(DecodeFieldsTest, VirtualServiceFieldsAreDecoded) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: full
  namespace: shop
  labels: {team: a}
  annotations: {note: x}
  resourceVersion: "42"
spec:
  hosts: [reviews, reviews.shop.svc.cluster.local]
  gateways: [mesh, istio-system/edge]
  exportTo: [".", other]
  http:
  - name: r1
    match:
    - name: m1
      uri: {prefix: /api}
      scheme: {exact: https}
      method: {exact: GET}
      authority: {regex: "a.*"}
      headers:
        end-user: {exact: jason}
        x-present: {}
      queryParams:
        q: {prefix: x}
      withoutHeaders:
        x-debug: {exact: "1"}
      port: 9080
      sourceLabels: {app: productpage}
      gateways: [mesh]
      sourceNamespace: front
      ignoreUriCase: true
      statPrefix: stats
    route:
    - destination: {host: reviews, subset: v2, port: {number: 9080}}
      weight: 80
      headers:
        request: {set: {x-a: "1"}, add: {x-b: "2"}, remove: [x-c]}
    - destination: {host: reviews, subset: v3}
      weight: 20
    rewrite:
      uri: /v2
      authority: other
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 100ms, retryOn: "5xx,connect-failure", retryRemoteLocalities: true}
    fault:
      delay: {fixedDelay: 2s, percentage: {value: 10.5}}
      abort: {httpStatus: 503, percentage: {value: 1}}
    mirror: {host: shadow, subset: v1}
    mirrorPercentage: {value: 25}
    corsPolicy:
      allowOrigin: [https://old.example.com]
      allowOrigins:
      - exact: https://a.example.com
      - regex: "https://.*\\.example\\.com"
      allowMethods: [GET, POST]
      allowHeaders: [x-a]
      exposeHeaders: [x-b]
      maxAge: 24h
      allowCredentials: true
      unmatchedPreflights: IGNORE
    headers:
      response: {set: {x-r: v}}
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: n.example.com, port: 8443, scheme: https, redirectCode: 302}
  - match: [{uri: {exact: /tea}}]
    directResponse: {status: 418, body: {string: teapot}}
  - match: [{uri: {exact: /hello}}]
    directResponse: {status: 200, body: {bytes: aGVsbG8=}}
  - match: [{uri: {exact: /m}}]
    mirrors:
    - destination: {host: shadow}
      percentage: {value: 5}
    route: [{destination: {host: reviews}}]
  - match: [{uri: {exact: /d}}]
    delegate: {name: child, namespace: other}
  - rewrite: {uriRegexRewrite: {match: "^/a/(.*)", rewrite: "/\\1"}}
    route: [{destination: {host: reviews}}]
  tcp:
  - match: [{port: 3306, destinationSubnets: [10.0.0.0/8]}]
    route: [{destination: {host: db, port: {number: 3306}}, weight: 100}]
  tls:
  - match: [{port: 443, sniHosts: [a.example.com]}]
    route: [{destination: {host: a.example.com}}]
)yaml",
                                 "full.yaml");
  ASSERT_TRUE(r.diagnostics.empty()) << Dump(r);
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  const VirtualService& vs = r.config.virtual_services[0];
  EXPECT_EQ(vs.meta.ns, "shop");
  EXPECT_EQ(vs.meta.labels, (Labels{{"team", "a"}}));
  EXPECT_EQ(vs.meta.annotations, (Labels{{"note", "x"}}));
  EXPECT_EQ(vs.meta.resource_version, "42");
  EXPECT_EQ(vs.gateways, (std::vector<std::string>{"mesh", "istio-system/edge"}));
  EXPECT_EQ(vs.export_to, (std::vector<std::string>{".", "other"}));
  ASSERT_EQ(vs.http.size(), 7u);
  const HTTPRoute& h = vs.http[0];
  EXPECT_EQ(h.name, "r1");
  const HTTPMatchRequest& m = h.match[0];
  EXPECT_EQ(m.name, "m1");
  EXPECT_EQ(*m.uri, (StringMatch{StringMatch::Kind::kPrefix, "/api"}));
  EXPECT_EQ(*m.scheme, (StringMatch{StringMatch::Kind::kExact, "https"}));
  EXPECT_EQ(*m.method, (StringMatch{StringMatch::Kind::kExact, "GET"}));
  EXPECT_EQ(*m.authority, (StringMatch{StringMatch::Kind::kRegex, "a.*"}));
  EXPECT_EQ(m.headers.at("end-user"), (StringMatch{StringMatch::Kind::kExact, "jason"}));
  EXPECT_EQ(m.headers.at("x-present"), (StringMatch{StringMatch::Kind::kAny, ""}));
  EXPECT_EQ(m.query_params.at("q"), (StringMatch{StringMatch::Kind::kPrefix, "x"}));
  EXPECT_EQ(m.without_headers.at("x-debug"), (StringMatch{StringMatch::Kind::kExact, "1"}));
  EXPECT_EQ(m.port, 9080u);
  EXPECT_EQ(m.source_labels, (Labels{{"app", "productpage"}}));
  EXPECT_EQ(m.gateways, std::vector<std::string>{"mesh"});
  EXPECT_EQ(m.source_namespace, "front");
  EXPECT_TRUE(m.ignore_uri_case);
  EXPECT_EQ(m.stat_prefix, "stats");
  ASSERT_EQ(h.route.size(), 2u);
  EXPECT_EQ(h.route[0].destination.host, "reviews");
  EXPECT_EQ(h.route[0].destination.subset, "v2");
  EXPECT_EQ(h.route[0].destination.port, 9080u);
  EXPECT_EQ(h.route[0].weight, 80);
  EXPECT_EQ(h.route[0].headers.request.set, (std::map<std::string, std::string>{{"x-a", "1"}}));
  EXPECT_EQ(h.route[0].headers.request.add, (std::map<std::string, std::string>{{"x-b", "2"}}));
  EXPECT_EQ(h.route[0].headers.request.remove, std::vector<std::string>{"x-c"});
  EXPECT_FALSE(h.route[1].destination.port.has_value());
  EXPECT_EQ(h.rewrite->uri, "/v2");
  EXPECT_EQ(h.rewrite->authority, "other");
  EXPECT_EQ(h.timeout->nanos, 1500 * kMs);
  EXPECT_EQ(h.retries->attempts, 3);
  EXPECT_EQ(h.retries->per_try_timeout->nanos, 100 * kMs);
  EXPECT_EQ(h.retries->retry_on, "5xx,connect-failure");
  EXPECT_EQ(h.retries->retry_remote_localities, true);
  EXPECT_EQ(h.fault->delay->fixed_delay->nanos, 2 * kSec);
  EXPECT_EQ(h.fault->delay->percentage, 10.5);
  EXPECT_EQ(h.fault->abort->http_status, 503);
  EXPECT_EQ(h.fault->abort->percentage, 1.0);
  EXPECT_EQ(h.mirror->host, "shadow");
  EXPECT_EQ(h.mirror->subset, "v1");
  EXPECT_EQ(h.mirror_percentage, 25.0);
  const CorsPolicy& cors = *h.cors_policy;
  ASSERT_EQ(cors.allow_origins.size(), 3u);
  EXPECT_EQ(cors.allow_origins[0], (StringMatch{StringMatch::Kind::kExact, "https://old.example.com"}));
  EXPECT_EQ(cors.allow_origins[1], (StringMatch{StringMatch::Kind::kExact, "https://a.example.com"}));
  EXPECT_EQ(cors.allow_origins[2].kind, StringMatch::Kind::kRegex);
  EXPECT_EQ(cors.allow_methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(cors.allow_headers, std::vector<std::string>{"x-a"});
  EXPECT_EQ(cors.expose_headers, std::vector<std::string>{"x-b"});
  EXPECT_EQ(cors.max_age->nanos, 24 * 3600 * kSec);
  EXPECT_EQ(cors.allow_credentials, true);
  EXPECT_EQ(cors.unmatched_preflights, "IGNORE");
  EXPECT_EQ(h.headers.response.set, (std::map<std::string, std::string>{{"x-r", "v"}}));

  const HTTPRedirect& red = *vs.http[1].redirect;
  EXPECT_EQ(red.uri, "/new");
  EXPECT_EQ(red.authority, "n.example.com");
  EXPECT_EQ(red.port, 8443u);
  EXPECT_EQ(red.scheme, "https");
  EXPECT_EQ(red.redirect_code, 302u);
  EXPECT_EQ(vs.http[2].direct_response->status, 418u);
  EXPECT_EQ(vs.http[2].direct_response->body, "teapot");
  EXPECT_EQ(vs.http[3].direct_response->body, "hello");
  ASSERT_EQ(vs.http[4].mirrors.size(), 1u);
  EXPECT_EQ(vs.http[4].mirrors[0].destination.host, "shadow");
  EXPECT_EQ(vs.http[4].mirrors[0].percentage, 5.0);
  EXPECT_EQ(vs.http[5].delegate->name, "child");
  EXPECT_EQ(vs.http[5].delegate->ns, "other");
  EXPECT_EQ(vs.http[6].rewrite->uri_regex_rewrite->match, "^/a/(.*)");
  EXPECT_EQ(vs.http[6].rewrite->uri_regex_rewrite->rewrite, "/\\1");
  ASSERT_EQ(vs.tcp.size(), 1u);
  EXPECT_EQ(vs.tcp[0].match[0].port, 3306u);
  EXPECT_EQ(vs.tcp[0].match[0].destination_subnets, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(vs.tcp[0].route[0].destination.port, 3306u);
  EXPECT_EQ(vs.tcp[0].route[0].weight, 100);
  EXPECT_EQ(vs.tls_route_count, 1u);
}

TEST(DecodeFieldsTest, DestinationRuleFieldsAreDecoded) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: full, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  exportTo: ["*"]
  workloadSelector: {matchLabels: {app: web}}
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: {name: user, path: /, ttl: 0s}
        ringHash: {minimumRingSize: 1024}
      warmupDurationSecs: 30s
    connectionPool:
      tcp:
        maxConnections: 100
        connectTimeout: 30ms
        tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}
        maxConnectionDuration: 1h
        idleTimeout: 5m
      http:
        http1MaxPendingRequests: 10
        http2MaxRequests: 1000
        maxRequestsPerConnection: 1
        maxRetries: 3
        idleTimeout: 30s
        h2UpgradePolicy: UPGRADE
        useClientProtocol: false
        maxConcurrentStreams: 50
    outlierDetection:
      consecutive5xxErrors: 7
      consecutiveGatewayErrors: 5
      consecutiveErrors: 4
      splitExternalLocalOriginErrors: true
      consecutiveLocalOriginFailures: 2
      interval: 5m
      baseEjectionTime: 15m
      maxEjectionPercent: 50
      minHealthPercent: 30
    tls: {mode: ISTIO_MUTUAL, sni: x.example.com}
    portLevelSettings:
    - port: {number: 80}
      loadBalancer: {simple: LEAST_REQUEST}
    - port: {number: 9080}
      tls: {mode: SIMPLE, credentialName: cred}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer:
        consistentHash: {useSourceIp: true, minimumRingSize: 64}
  - name: v3
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpQueryParameterName: uid}
)yaml",
                                 "dr.yaml");
  // The deprecated consecutiveErrors is accepted with a warning, as Istio does.
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.diagnostics.size(), 1u) << Dump(r);
  EXPECT_EQ(r.diagnostics[0].field, "spec.trafficPolicy.outlierDetection.consecutiveErrors");
  ASSERT_EQ(r.config.destination_rules.size(), 1u);
  const DestinationRule& dr = r.config.destination_rules[0];
  EXPECT_EQ(dr.export_to, std::vector<std::string>{"*"});
  EXPECT_EQ(dr.workload_selector, (Labels{{"app", "web"}}));
  const TrafficPolicy& tp = *dr.traffic_policy;
  const ConsistentHashLB& ch = *tp.load_balancer->consistent_hash;
  EXPECT_EQ(ch.kind, ConsistentHashLB::Kind::kHttpCookie);
  EXPECT_EQ(ch.cookie.name, "user");
  EXPECT_EQ(ch.cookie.path, "/");
  EXPECT_EQ(ch.cookie.ttl->nanos, 0);
  EXPECT_EQ(ch.minimum_ring_size, 1024u);
  EXPECT_EQ(tp.load_balancer->warmup_duration_secs->nanos, 30 * kSec);
  const TCPSettings& tcp = *tp.connection_pool->tcp;
  EXPECT_EQ(tcp.max_connections, 100);
  EXPECT_EQ(tcp.connect_timeout->nanos, 30 * kMs);
  EXPECT_EQ(tcp.tcp_keepalive->probes, 3u);
  EXPECT_EQ(tcp.tcp_keepalive->time->nanos, 7200 * kSec);
  EXPECT_EQ(tcp.tcp_keepalive->interval->nanos, 75 * kSec);
  EXPECT_EQ(tcp.max_connection_duration->nanos, 3600 * kSec);
  EXPECT_EQ(tcp.idle_timeout->nanos, 300 * kSec);
  const HTTPSettings& http = *tp.connection_pool->http;
  EXPECT_EQ(http.http1_max_pending_requests, 10);
  EXPECT_EQ(http.http2_max_requests, 1000);
  EXPECT_EQ(http.max_requests_per_connection, 1);
  EXPECT_EQ(http.max_retries, 3);
  EXPECT_EQ(http.idle_timeout->nanos, 30 * kSec);
  EXPECT_EQ(http.h2_upgrade_policy, HTTPSettings::H2UpgradePolicy::kUpgrade);
  EXPECT_EQ(http.use_client_protocol, false);
  EXPECT_EQ(http.max_concurrent_streams, 50);
  const OutlierDetection& od = *tp.outlier_detection;
  EXPECT_EQ(od.consecutive_5xx_errors, 7);
  EXPECT_EQ(od.consecutive_gateway_errors, 5);
  EXPECT_EQ(od.consecutive_errors, 4);
  EXPECT_EQ(od.split_external_local_origin_errors, true);
  EXPECT_EQ(od.consecutive_local_origin_failures, 2);
  EXPECT_EQ(od.interval->nanos, 300 * kSec);
  EXPECT_EQ(od.base_ejection_time->nanos, 900 * kSec);
  EXPECT_EQ(od.max_ejection_percent, 50);
  EXPECT_EQ(od.min_health_percent, 30);
  EXPECT_EQ(tp.tls->mode, ClientTLSSettings::Mode::kIstioMutual);
  EXPECT_EQ(tp.tls->sni, "x.example.com");
  ASSERT_EQ(tp.port_level_settings.size(), 2u);
  EXPECT_EQ(tp.port_level_settings[0].port, 80u);
  EXPECT_EQ(tp.port_level_settings[0].load_balancer->simple,
            LoadBalancerSettings::Simple::kLeastRequest);
  EXPECT_EQ(tp.port_level_settings[1].tls->mode, ClientTLSSettings::Mode::kSimple);
  EXPECT_EQ(tp.port_level_settings[1].tls->credential_name, "cred");
  ASSERT_EQ(dr.subsets.size(), 3u);
  const ConsistentHashLB& ch1 = *dr.subsets[0].traffic_policy->load_balancer->consistent_hash;
  EXPECT_EQ(ch1.kind, ConsistentHashLB::Kind::kHttpHeaderName);
  EXPECT_EQ(ch1.header_name, "x-user");
  EXPECT_EQ(ch1.maglev_table_size, 65537u);
  const ConsistentHashLB& ch2 = *dr.subsets[1].traffic_policy->load_balancer->consistent_hash;
  EXPECT_EQ(ch2.kind, ConsistentHashLB::Kind::kUseSourceIp);
  EXPECT_EQ(ch2.minimum_ring_size, 64u);
  const ConsistentHashLB& ch3 = *dr.subsets[2].traffic_policy->load_balancer->consistent_hash;
  EXPECT_EQ(ch3.kind, ConsistentHashLB::Kind::kHttpQueryParameterName);
  EXPECT_EQ(ch3.query_param, "uid");
}

TEST(DecodeFieldsTest, KubernetesObjectsAreDecoded) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {networking.istio.io/exportTo: ".,  other"}
spec:
  clusterIP: 10.0.0.7
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http-alt, appProtocol: http}
  - {name: grpc, port: 9000, targetPort: 9001}
  - {name: admin, port: 8080, targetPort: "8081", protocol: UDP}
  - {name: plain, port: 7000}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  labels: {app: web}
  deletionTimestamp: "2024-01-01T00:00:00Z"
spec:
  nodeName: node-a
  containers:
  - name: app
    ports:
    - {name: http-alt, containerPort: 8080}
  - name: side
    ports:
    - {containerPort: 9001, protocol: UDP}
status:
  phase: Running
  podIP: 10.1.0.5
  conditions:
  - {type: Initialized, status: "True"}
  - {type: Ready, status: "True"}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports:
- {name: http, port: 8080, protocol: TCP}
endpoints:
- addresses: [10.1.0.5]
  conditions: {ready: false, serving: true, terminating: true}
  targetRef: {kind: Pod, name: web-1}
  nodeName: node-a
  zone: zone-1
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: shop}
subsets:
- addresses:
  - ip: 10.1.0.5
    nodeName: node-a
    targetRef: {kind: Pod, name: web-1, namespace: shop}
  notReadyAddresses:
  - ip: 10.1.0.6
  ports:
  - {name: http, port: 8080}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
)yaml",
                                 "k8s.yaml");
  ASSERT_TRUE(r.diagnostics.empty()) << Dump(r);
  ASSERT_EQ(r.config.services.size(), 1u);
  const Service& svc = r.config.services[0];
  EXPECT_EQ(svc.cluster_ip, "10.0.0.7");
  EXPECT_EQ(svc.type, "ClusterIP");
  EXPECT_EQ(svc.export_to, (std::vector<std::string>{".", "other"}));
  ASSERT_EQ(svc.ports.size(), 4u);
  EXPECT_EQ(svc.ports[0].target_port.name, "http-alt");
  EXPECT_EQ(svc.ports[0].app_protocol, "http");
  EXPECT_EQ(svc.ports[1].target_port.number, 9001u);
  EXPECT_EQ(svc.ports[2].target_port.number, 8081u);
  EXPECT_FALSE(svc.ports[2].target_port.IsName());
  EXPECT_EQ(svc.ports[2].protocol, "UDP");
  EXPECT_EQ(svc.ports[3].target_port.number, 7000u);
  ASSERT_EQ(r.config.pods.size(), 1u);
  const Pod& pod = r.config.pods[0];
  EXPECT_EQ(pod.node_name, "node-a");
  ASSERT_EQ(pod.ports.size(), 2u);
  EXPECT_EQ(pod.ports[0].name, "http-alt");
  EXPECT_EQ(pod.ports[0].container_port, 8080u);
  EXPECT_EQ(pod.ports[1].protocol, "UDP");
  EXPECT_EQ(pod.phase, "Running");
  EXPECT_EQ(pod.pod_ip, "10.1.0.5");
  EXPECT_TRUE(pod.ready);
  EXPECT_TRUE(pod.terminating);
  ASSERT_EQ(r.config.endpoint_slices.size(), 1u);
  const EndpointSlice& slice = r.config.endpoint_slices[0];
  EXPECT_EQ(slice.service_name, "web");
  EXPECT_EQ(slice.ports[0].port, 8080u);
  EXPECT_EQ(slice.endpoints[0].ready, false);
  EXPECT_EQ(slice.endpoints[0].serving, true);
  EXPECT_EQ(slice.endpoints[0].terminating, true);
  EXPECT_EQ(slice.endpoints[0].target_ref->ns, "shop");  // defaulted to the slice's namespace
  EXPECT_EQ(slice.endpoints[0].zone, "zone-1");
  ASSERT_EQ(r.config.endpoints.size(), 1u);
  EXPECT_EQ(r.config.endpoints[0].subsets[0].addresses[0].target_ref->name, "web-1");
  EXPECT_EQ(r.config.endpoints[0].subsets[0].not_ready_addresses[0].ip, "10.1.0.6");
  ASSERT_EQ(r.config.namespaces.size(), 1u);
  EXPECT_EQ(r.config.namespaces[0].meta.name, "shop");
  EXPECT_EQ(r.config.namespaces[0].meta.labels.at("istio-injection"), "enabled");
}

}  // namespace
}  // namespace cmesh::model
