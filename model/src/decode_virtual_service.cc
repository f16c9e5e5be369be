// Decoding of networking.istio.io VirtualService specs (field names as in Istio's JSON API).
#include "decoders.h"

namespace cmesh::model::internal {
namespace {

void DecodeStringMatch(DecodeContext& ctx, const Json& j, const std::string& path,
                       StringMatch& out) {
  ObjectReader r(ctx, j, path, true);
  int kinds = 0;
  if (const Json* v = r.Get("exact")) {
    ++kinds;
    out.kind = StringMatch::Kind::kExact;
    ReadString(ctx, *v, r.Path("exact"), out.value);
  }
  if (const Json* v = r.Get("prefix")) {
    ++kinds;
    out.kind = StringMatch::Kind::kPrefix;
    ReadString(ctx, *v, r.Path("prefix"), out.value);
  }
  if (const Json* v = r.Get("regex")) {
    ++kinds;
    out.kind = StringMatch::Kind::kRegex;
    ReadString(ctx, *v, r.Path("regex"), out.value);
  }
  // StringMatch is a protobuf oneof: two members at once is a decoding error.
  if (kinds > 1) ctx.Error(path, "Invalid value: only one of exact, prefix or regex may be set");
  r.Finish();
}

void OptStringMatch(ObjectReader& r, std::string_view key, std::optional<StringMatch>& out) {
  if (const Json* j = r.Get(key)) {
    StringMatch m;
    DecodeStringMatch(r.ctx(), *j, r.Path(key), m);
    out = m;
  }
}

// `null_allowed`: withoutHeaders and queryParams read `name:` with no value as the empty match;
// Istio rejects a null header match in `headers`.
void StringMatchMap(ObjectReader& r, std::string_view key, std::map<std::string, StringMatch>& out,
                    bool null_allowed) {
  ForEachEntry(r, key, [&](const std::string& name, const Json& value, const std::string& path) {
    StringMatch m;
    if (value.is_null()) {
      if (!null_allowed) r.ctx().Error(path, "Invalid value: header match cannot be null");
    } else {
      DecodeStringMatch(r.ctx(), value, path, m);
    }
    out[name] = m;
  });
}

void DecodeDestination(DecodeContext& ctx, const Json& j, const std::string& path,
                       Destination& out) {
  ObjectReader r(ctx, j, path, true);
  r.String("host", out.host);
  r.String("subset", out.subset);
  r.PortNumber("port", out.port);
  r.Finish();
}

void DecodeHeaderOperations(DecodeContext& ctx, const Json& j, const std::string& path,
                            HeaderOperations& out) {
  ObjectReader r(ctx, j, path, true);
  r.StringMap("set", out.set);
  r.StringMap("add", out.add);
  r.Strings("remove", out.remove);
  r.Finish();
}

void DecodeHeaders(ObjectReader& parent, std::string_view key, Headers& out) {
  const Json* j = parent.Get(key);
  if (j == nullptr) return;
  ObjectReader r(parent.ctx(), *j, parent.Path(key), true);
  if (const Json* req = r.Get("request")) {
    DecodeHeaderOperations(r.ctx(), *req, r.Path("request"), out.request);
  }
  if (const Json* resp = r.Get("response")) {
    DecodeHeaderOperations(r.ctx(), *resp, r.Path("response"), out.response);
  }
  r.Finish();
}

void DecodeMatch(DecodeContext& ctx, const Json& j, const std::string& path, HTTPMatchRequest& m) {
  ObjectReader r(ctx, j, path, true);
  r.String("name", m.name);
  OptStringMatch(r, "uri", m.uri);
  OptStringMatch(r, "scheme", m.scheme);
  OptStringMatch(r, "method", m.method);
  OptStringMatch(r, "authority", m.authority);
  StringMatchMap(r, "headers", m.headers, false);
  StringMatchMap(r, "queryParams", m.query_params, true);
  StringMatchMap(r, "withoutHeaders", m.without_headers, true);
  r.UInt32("port", m.port);
  if (m.port == 0u) m.port.reset();  // proto3: 0 is "not set"
  r.StringMap("sourceLabels", m.source_labels);
  r.Strings("gateways", m.gateways);
  r.String("sourceNamespace", m.source_namespace);
  r.Bool("ignoreUriCase", m.ignore_uri_case);
  r.String("statPrefix", m.stat_prefix);
  r.Finish();
}

void DecodeRedirect(DecodeContext& ctx, const Json& j, const std::string& path, HTTPRedirect& out) {
  ObjectReader r(ctx, j, path, true);
  r.String("uri", out.uri);
  r.String("authority", out.authority);
  r.UInt32("port", out.port);
  if (auto v = r.Enum("derivePort", {"FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"})) {
    out.derive_port_from_request = *v == 1;
  }
  r.String("scheme", out.scheme);
  r.UInt32("redirectCode", out.redirect_code);
  if (out.redirect_code == 0) out.redirect_code = 301;  // proto3 default means "unset"
  r.Finish();
}

void DecodeDirectResponse(DecodeContext& ctx, const Json& j, const std::string& path,
                          HTTPDirectResponse& out) {
  ObjectReader r(ctx, j, path, true);
  r.UInt32("status", out.status);
  if (const Json* body = r.Get("body")) {
    ObjectReader b(ctx, *body, r.Path("body"), true);
    b.OptString("string", out.body);
    if (const Json* bytes = b.Get("bytes")) {
      std::string encoded;
      if (ReadString(ctx, *bytes, b.Path("bytes"), encoded)) {
        // base64 (standard alphabet, padding optional), as protobuf's JSON mapping of bytes.
        static const std::string kAlphabet =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string decoded;
        uint32_t acc = 0;
        int bits = 0;
        bool bad = false;
        for (char c : encoded) {
          if (c == '=') break;
          if (c == '-') c = '+';  // protobuf also accepts the URL-safe alphabet
          if (c == '_') c = '/';
          auto pos = kAlphabet.find(c);
          if (pos == std::string::npos) {
            bad = true;
            break;
          }
          acc = (acc << 6) | static_cast<uint32_t>(pos);
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            decoded.push_back(static_cast<char>((acc >> bits) & 0xFF));
          }
        }
        if (bad) {
          ctx.Error(b.Path("bytes"), "Invalid value: not base64");
        } else if (out.body) {
          ctx.Error(r.Path("body"), "Invalid value: only one of string or bytes may be set");
        } else {
          out.body = decoded;
        }
      }
    }
    b.Finish();
  }
  r.Finish();
}

void DecodeRewrite(DecodeContext& ctx, const Json& j, const std::string& path, HTTPRewrite& out) {
  ObjectReader r(ctx, j, path, true);
  r.String("uri", out.uri);
  r.String("authority", out.authority);
  if (const Json* rr = r.Get("uriRegexRewrite")) {
    ObjectReader x(ctx, *rr, r.Path("uriRegexRewrite"), true);
    RegexRewrite rewrite;
    x.String("match", rewrite.match);
    x.String("rewrite", rewrite.rewrite);
    x.Finish();
    out.uri_regex_rewrite = rewrite;
  }
  r.Finish();
}

void DecodeRetry(DecodeContext& ctx, const Json& j, const std::string& path, HTTPRetry& out) {
  ObjectReader r(ctx, j, path, true);
  r.Int32("attempts", out.attempts);
  r.Dur("perTryTimeout", out.per_try_timeout);
  r.String("retryOn", out.retry_on);
  r.Bool("retryRemoteLocalities", out.retry_remote_localities);
  // Newer fields of the API that the model does not carry; type-checked, then dropped.
  std::optional<bool> ignore_previous;
  r.Bool("retryIgnorePreviousHosts", ignore_previous);
  std::optional<Duration> backoff;
  r.Dur("backoff", backoff);
  r.Finish();
}

void DecodeFault(DecodeContext& ctx, const Json& j, const std::string& path,
                 HTTPFaultInjection& out) {
  ObjectReader r(ctx, j, path, true);
  if (const Json* d = r.Get("delay")) {
    ObjectReader x(ctx, *d, r.Path("delay"), true);
    FaultDelay delay;
    x.Dur("fixedDelay", delay.fixed_delay);
    if (x.Get("exponentialDelay") != nullptr) {
      ctx.Error(x.Path("exponentialDelay"), "Invalid value: exponentialDelay is not supported");
    }
    x.Percent("percentage", delay.percentage);
    x.Int32("percent", delay.percent);
    x.Finish();
    out.delay = delay;
  }
  if (const Json* a = r.Get("abort")) {
    ObjectReader x(ctx, *a, r.Path("abort"), true);
    FaultAbort abort;
    x.Int32("httpStatus", abort.http_status);
    x.String("grpcStatus", abort.grpc_status);
    if (x.Get("http2Error") != nullptr) {
      ctx.Error(x.Path("http2Error"), "Invalid value: http2Error is not supported");
    }
    x.Percent("percentage", abort.percentage);
    x.Finish();
    out.abort = abort;
  }
  r.Finish();
}

void DecodeCors(DecodeContext& ctx, const Json& j, const std::string& path, CorsPolicy& out) {
  ObjectReader r(ctx, j, path, true);
  // Deprecated allowOrigin: a list of exact origins.
  std::vector<std::string> legacy;
  r.Strings("allowOrigin", legacy);
  for (auto& o : legacy) out.allow_origins.push_back(StringMatch{StringMatch::Kind::kExact, o});
  ForEachItem(r, "allowOrigins", [&](const Json& item, const std::string& p) {
    StringMatch m;
    DecodeStringMatch(ctx, item, p, m);
    out.allow_origins.push_back(m);
  });
  r.Strings("allowMethods", out.allow_methods);
  r.Strings("allowHeaders", out.allow_headers);
  r.Strings("exposeHeaders", out.expose_headers);
  r.Dur("maxAge", out.max_age);
  r.Bool("allowCredentials", out.allow_credentials);
  if (auto v = r.Enum("unmatchedPreflights", {"UNSPECIFIED", "FORWARD", "IGNORE"})) {
    out.unmatched_preflights = *v == 0 ? "" : (*v == 1 ? "FORWARD" : "IGNORE");
  }
  r.Finish();
}

void DecodeHttpRoute(DecodeContext& ctx, const Json& j, const std::string& path, HTTPRoute& h) {
  ObjectReader r(ctx, j, path, true);
  r.String("name", h.name);
  ForEachItem(r, "match", [&](const Json& item, const std::string& p) {
    DecodeMatch(ctx, item, p, h.match.emplace_back());
  });
  ForEachItem(r, "route", [&](const Json& item, const std::string& p) {
    ObjectReader d(ctx, item, p, true);
    HTTPRouteDestination& dest = h.route.emplace_back();
    if (const Json* x = d.Get("destination")) {
      DecodeDestination(ctx, *x, d.Path("destination"), dest.destination);
    }
    d.Int32("weight", dest.weight);
    DecodeHeaders(d, "headers", dest.headers);
    d.Finish();
  });
  if (const Json* x = r.Get("redirect")) DecodeRedirect(ctx, *x, r.Path("redirect"), h.redirect.emplace());
  if (const Json* x = r.Get("directResponse")) {
    DecodeDirectResponse(ctx, *x, r.Path("directResponse"), h.direct_response.emplace());
  }
  if (const Json* x = r.Get("delegate")) {
    ObjectReader d(ctx, *x, r.Path("delegate"), true);
    Delegate& del = h.delegate.emplace();
    d.String("name", del.name);
    d.String("namespace", del.ns);
    d.Finish();
  }
  if (const Json* x = r.Get("rewrite")) DecodeRewrite(ctx, *x, r.Path("rewrite"), h.rewrite.emplace());
  r.Dur("timeout", h.timeout);
  if (const Json* x = r.Get("retries")) DecodeRetry(ctx, *x, r.Path("retries"), h.retries.emplace());
  if (const Json* x = r.Get("fault")) DecodeFault(ctx, *x, r.Path("fault"), h.fault.emplace());
  if (const Json* x = r.Get("mirror")) DecodeDestination(ctx, *x, r.Path("mirror"), h.mirror.emplace());
  r.Percent("mirrorPercentage", h.mirror_percentage);
  // Deprecated integer mirrorPercent, read when mirrorPercentage is absent.
  std::optional<uint32_t> legacy_percent;
  r.UInt32("mirrorPercent", legacy_percent);
  if (!h.mirror_percentage && legacy_percent) h.mirror_percentage = *legacy_percent;
  ForEachItem(r, "mirrors", [&](const Json& item, const std::string& p) {
    ObjectReader m(ctx, item, p, true);
    HTTPMirrorPolicy& mp = h.mirrors.emplace_back();
    if (const Json* x = m.Get("destination")) {
      DecodeDestination(ctx, *x, m.Path("destination"), mp.destination);
    }
    m.Percent("percentage", mp.percentage);
    m.Finish();
  });
  if (const Json* x = r.Get("corsPolicy")) DecodeCors(ctx, *x, r.Path("corsPolicy"), h.cors_policy.emplace());
  DecodeHeaders(r, "headers", h.headers);
  r.Finish();
}

void DecodeRouteDestination(DecodeContext& ctx, const Json& item, const std::string& p,
                            RouteDestination& dest) {
  ObjectReader d(ctx, item, p, true);
  if (const Json* x = d.Get("destination")) {
    DecodeDestination(ctx, *x, d.Path("destination"), dest.destination);
  }
  d.Int32("weight", dest.weight);
  d.Finish();
}

void DecodeTcpRoute(DecodeContext& ctx, const Json& j, const std::string& path, TCPRoute& t) {
  ObjectReader r(ctx, j, path, true);
  ForEachItem(r, "match", [&](const Json& item, const std::string& p) {
    ObjectReader m(ctx, item, p, true);
    L4MatchAttributes& a = t.match.emplace_back();
    m.Strings("destinationSubnets", a.destination_subnets);
    m.UInt32("port", a.port);
    if (a.port == 0u) a.port.reset();
    m.StringMap("sourceLabels", a.source_labels);
    m.Strings("gateways", a.gateways);
    m.String("sourceNamespace", a.source_namespace);
    m.Finish();
  });
  ForEachItem(r, "route", [&](const Json& item, const std::string& p) {
    DecodeRouteDestination(ctx, item, p, t.route.emplace_back());
  });
  r.Finish();
}

// TLS routes are not translated yet; they are decoded (strictly) so that typos are still caught,
// and checked here as Istio does, since the model does not keep them for the validator.
void DecodeTlsRoute(DecodeContext& ctx, const Json& j, const std::string& path) {
  ObjectReader r(ctx, j, path, true);
  size_t matches = 0;
  ForEachItem(r, "match", [&](const Json& item, const std::string& p) {
    ++matches;
    ObjectReader m(ctx, item, p, true);
    std::vector<std::string> sni;
    m.Strings("sniHosts", sni);
    if (sni.empty() && m.valid()) {
      ctx.Error(m.Path("sniHosts"), "Required value: a TLS match needs at least one SNI host");
    }
    L4MatchAttributes a;
    m.Strings("destinationSubnets", a.destination_subnets);
    m.UInt32("port", a.port);
    m.StringMap("sourceLabels", a.source_labels);
    m.Strings("gateways", a.gateways);
    m.String("sourceNamespace", a.source_namespace);
    m.Finish();
  });
  if (matches == 0) {
    ctx.Error(r.Path("match"), "Required value: a TLS route needs at least one match condition");
  }
  size_t routes = 0;
  ForEachItem(r, "route", [&](const Json& item, const std::string& p) {
    ++routes;
    RouteDestination dest;
    DecodeRouteDestination(ctx, item, p, dest);
    if (dest.destination.host.empty()) {
      ctx.Error(p + ".destination.host", "Required value: destination host is required");
    }
  });
  if (routes == 0) ctx.Error(r.Path("route"), "Required value: a TLS route needs a destination");
  r.Finish();
}

}  // namespace

void DecodeVirtualServiceSpec(DecodeContext& ctx, const Json& spec, VirtualService& vs) {
  ObjectReader r(ctx, spec, "spec", true);
  r.Strings("hosts", vs.hosts);
  r.Strings("gateways", vs.gateways);
  ForEachItem(r, "http", [&](const Json& item, const std::string& p) {
    DecodeHttpRoute(ctx, item, p, vs.http.emplace_back());
  });
  ForEachItem(r, "tcp", [&](const Json& item, const std::string& p) {
    DecodeTcpRoute(ctx, item, p, vs.tcp.emplace_back());
  });
  ForEachItem(r, "tls", [&](const Json& item, const std::string& p) {
    DecodeTlsRoute(ctx, item, p);
    ++vs.tls_route_count;
  });
  r.Strings("exportTo", vs.export_to);
  r.Finish();
}

}  // namespace cmesh::model::internal
