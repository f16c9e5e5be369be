// Decoding of networking.istio.io DestinationRule specs (field names as in Istio's JSON API).
#include "decoders.h"

namespace cmesh::model::internal {
namespace {

void DecodeConsistentHash(DecodeContext& ctx, const Json& j, const std::string& path,
                          ConsistentHashLB& out) {
  ObjectReader r(ctx, j, path, true);
  int kinds = 0;
  if (const Json* v = r.Get("httpHeaderName")) {
    ++kinds;
    out.kind = ConsistentHashLB::Kind::kHttpHeaderName;
    ReadString(ctx, *v, r.Path("httpHeaderName"), out.header_name);
  }
  if (const Json* v = r.Get("httpCookie")) {
    ++kinds;
    out.kind = ConsistentHashLB::Kind::kHttpCookie;
    ObjectReader c(ctx, *v, r.Path("httpCookie"), true);
    c.String("name", out.cookie.name);
    c.String("path", out.cookie.path);
    c.Dur("ttl", out.cookie.ttl);
    c.Ignore({"attributes"});
    c.Finish();
  }
  if (const Json* v = r.Get("useSourceIp")) {
    ++kinds;
    out.kind = ConsistentHashLB::Kind::kUseSourceIp;
    bool b = false;
    ReadBool(ctx, *v, r.Path("useSourceIp"), b);
  }
  if (const Json* v = r.Get("httpQueryParameterName")) {
    ++kinds;
    out.kind = ConsistentHashLB::Kind::kHttpQueryParameterName;
    ReadString(ctx, *v, r.Path("httpQueryParameterName"), out.query_param);
  }
  if (kinds > 1) {
    ctx.Error(path, "Invalid value: only one of httpHeaderName, httpCookie, useSourceIp or "
                    "httpQueryParameterName may be set");
  }
  if (const Json* v = r.Get("ringHash")) {
    ObjectReader x(ctx, *v, r.Path("ringHash"), true);
    x.UInt64("minimumRingSize", out.minimum_ring_size);
    x.Finish();
  }
  if (const Json* v = r.Get("maglev")) {
    ObjectReader x(ctx, *v, r.Path("maglev"), true);
    x.UInt64("tableSize", out.maglev_table_size);
    x.Finish();
  }
  // The deprecated top-level minimumRingSize excludes a hash algorithm (ringHash / maglev).
  if (r.Has("minimumRingSize") && (r.Has("ringHash") || r.Has("maglev"))) {
    ctx.Error(r.Path("minimumRingSize"),
              "Invalid value: only one of minimumRingSize or maglev/ringHash may be set");
  }
  if (r.Has("ringHash") && r.Has("maglev")) {
    ctx.Error(path, "Invalid value: only one of ringHash or maglev may be set");
  }
  if (!out.minimum_ring_size) r.UInt64("minimumRingSize", out.minimum_ring_size);
  r.Ignore({"minimumRingSize"});
  r.Finish();
}

void DecodeLoadBalancer(DecodeContext& ctx, const Json& j, const std::string& path,
                        LoadBalancerSettings& out) {
  ObjectReader r(ctx, j, path, true);
  if (auto v = r.Enum("simple", {"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH",
                                 "ROUND_ROBIN", "LEAST_REQUEST"})) {
    out.simple = static_cast<LoadBalancerSettings::Simple>(*v);
  }
  if (const Json* v = r.Get("consistentHash")) {
    DecodeConsistentHash(ctx, *v, r.Path("consistentHash"), out.consistent_hash.emplace());
  }
  if (const Json* v = r.Get("warmup")) {
    ObjectReader w(ctx, *v, r.Path("warmup"), true);
    WarmupConfiguration& warm = out.warmup.emplace();
    w.Dur("duration", warm.duration);
    w.Double("minimumPercent", warm.minimum_percent);
    w.Double("aggression", warm.aggression);
    w.Finish();
  }
  r.Dur("warmupDurationSecs", out.warmup_duration_secs);
  r.Ignore({"localityLbSetting"});
  r.Finish();
}

void DecodeConnectionPool(DecodeContext& ctx, const Json& j, const std::string& path,
                          ConnectionPoolSettings& out) {
  ObjectReader r(ctx, j, path, true);
  if (const Json* v = r.Get("tcp")) {
    ObjectReader t(ctx, *v, r.Path("tcp"), true);
    TCPSettings& tcp = out.tcp.emplace();
    t.Int32("maxConnections", tcp.max_connections);
    t.Dur("connectTimeout", tcp.connect_timeout);
    if (const Json* k = t.Get("tcpKeepalive")) {
      ObjectReader x(ctx, *k, t.Path("tcpKeepalive"), true);
      TcpKeepalive& ka = tcp.tcp_keepalive.emplace();
      x.UInt32("probes", ka.probes);
      x.Dur("time", ka.time);
      x.Dur("interval", ka.interval);
      x.Finish();
    }
    t.Dur("maxConnectionDuration", tcp.max_connection_duration);
    t.Dur("idleTimeout", tcp.idle_timeout);
    t.Finish();
  }
  if (const Json* v = r.Get("http")) {
    ObjectReader h(ctx, *v, r.Path("http"), true);
    HTTPSettings& http = out.http.emplace();
    h.Int32("http1MaxPendingRequests", http.http1_max_pending_requests);
    h.Int32("http2MaxRequests", http.http2_max_requests);
    h.Int32("maxRequestsPerConnection", http.max_requests_per_connection);
    h.Int32("maxRetries", http.max_retries);
    h.Dur("idleTimeout", http.idle_timeout);
    if (auto e = h.Enum("h2UpgradePolicy", {"DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"})) {
      http.h2_upgrade_policy = static_cast<HTTPSettings::H2UpgradePolicy>(*e);
    }
    h.Bool("useClientProtocol", http.use_client_protocol);
    h.Int32("maxConcurrentStreams", http.max_concurrent_streams);
    if (const Json* k = h.Get("http2KeepAlive")) {
      ObjectReader x(ctx, *k, h.Path("http2KeepAlive"), true);
      x.Dur("interval", http.http2_keepalive_interval);
      x.Dur("timeout", http.http2_keepalive_timeout);
      x.Finish();
    }
    h.Finish();
  }
  r.Finish();
}

void DecodeOutlierDetection(DecodeContext& ctx, const Json& j, const std::string& path,
                            OutlierDetection& out) {
  ObjectReader r(ctx, j, path, true);
  r.Int32("consecutiveErrors", out.consecutive_errors);
  r.Int32("consecutiveGatewayErrors", out.consecutive_gateway_errors);
  r.Int32("consecutive5xxErrors", out.consecutive_5xx_errors);
  r.Bool("splitExternalLocalOriginErrors", out.split_external_local_origin_errors);
  r.Int32("consecutiveLocalOriginFailures", out.consecutive_local_origin_failures);
  r.Dur("interval", out.interval);
  r.Dur("baseEjectionTime", out.base_ejection_time);
  r.Int32("maxEjectionPercent", out.max_ejection_percent);
  r.Int32("minHealthPercent", out.min_health_percent);
  r.Finish();
}

void DecodeTls(DecodeContext& ctx, const Json& j, const std::string& path, ClientTLSSettings& out) {
  ObjectReader r(ctx, j, path, true);
  if (auto v = r.Enum("mode", {"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"})) {
    out.mode = static_cast<ClientTLSSettings::Mode>(*v);
  }
  r.String("sni", out.sni);
  r.String("credentialName", out.credential_name);
  r.Ignore({"clientCertificate", "privateKey", "caCertificates", "subjectAltNames",
            "insecureSkipVerify", "caCrl"});
  r.Finish();
}

template <typename Policy>
void DecodePolicyCommon(ObjectReader& r, Policy& out) {
  DecodeContext& ctx = r.ctx();
  if (const Json* v = r.Get("loadBalancer")) {
    DecodeLoadBalancer(ctx, *v, r.Path("loadBalancer"), out.load_balancer.emplace());
  }
  if (const Json* v = r.Get("connectionPool")) {
    DecodeConnectionPool(ctx, *v, r.Path("connectionPool"), out.connection_pool.emplace());
  }
  if (const Json* v = r.Get("outlierDetection")) {
    DecodeOutlierDetection(ctx, *v, r.Path("outlierDetection"), out.outlier_detection.emplace());
  }
  if (const Json* v = r.Get("tls")) DecodeTls(ctx, *v, r.Path("tls"), out.tls.emplace());
}

void DecodeTrafficPolicy(DecodeContext& ctx, const Json& j, const std::string& path,
                         TrafficPolicy& out) {
  ObjectReader r(ctx, j, path, true);
  // Checked here because tunnel and proxyProtocol, which count, are not kept in the model.
  bool any = false;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) any = any || !v.is_null();
    if (!any) ctx.Error(path, "Invalid value: traffic policy must have at least one field");
  }
  DecodePolicyCommon(r, out);
  ForEachItem(r, "portLevelSettings", [&](const Json& item, const std::string& p) {
    ObjectReader x(ctx, item, p, true);
    PortTrafficPolicy& pol = out.port_level_settings.emplace_back();
    x.PortNumber("port", pol.port);
    DecodePolicyCommon(x, pol);
    x.Finish();
  });
  // Known to Istio's API, not modelled here.
  r.Ignore({"tunnel", "proxyProtocol"});
  r.Finish();
}

}  // namespace

void DecodeDestinationRuleSpec(DecodeContext& ctx, const Json& spec, DestinationRule& dr) {
  ObjectReader r(ctx, spec, "spec", true);
  r.String("host", dr.host);
  if (const Json* v = r.Get("trafficPolicy")) {
    DecodeTrafficPolicy(ctx, *v, r.Path("trafficPolicy"), dr.traffic_policy.emplace());
  }
  ForEachItem(r, "subsets", [&](const Json& item, const std::string& p) {
    ObjectReader s(ctx, item, p, true);
    Subset& subset = dr.subsets.emplace_back();
    s.String("name", subset.name);
    s.StringMap("labels", subset.labels);
    if (const Json* v = s.Get("trafficPolicy")) {
      DecodeTrafficPolicy(ctx, *v, s.Path("trafficPolicy"), subset.traffic_policy.emplace());
    }
    s.Finish();
  });
  r.Strings("exportTo", dr.export_to);
  if (const Json* v = r.Get("workloadSelector")) {
    ObjectReader w(ctx, *v, r.Path("workloadSelector"), true);
    w.StringMap("matchLabels", dr.workload_selector);
    w.Finish();
  }
  r.Finish();
}

}  // namespace cmesh::model::internal
