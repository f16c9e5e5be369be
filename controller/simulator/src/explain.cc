#include "cmesh/simulator/explain.h"

#include <cstdio>
#include <sstream>

namespace cmesh::simulator {
namespace {

std::string Percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", p);
  std::string s(buf);
  // 50.00% reads better as 50%.
  if (s.size() > 4 && s.compare(s.size() - 4, 4, ".00%") == 0) s = s.substr(0, s.size() - 4) + "%";
  return s;
}

std::string Millis(int64_t ms) {
  if (ms == 0) return "0s (disabled)";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

void Line(std::ostringstream& out, const std::string& label, const std::string& value) {
  out << label;
  for (size_t i = label.size(); i < 17; ++i) out << ' ';
  out << value << '\n';
}

void HeaderLines(std::ostringstream& out, const std::string& label,
                 const std::vector<HeaderChange>& changes) {
  for (const auto& c : changes) {
    std::string text = c.remove ? "remove " + c.name
                                : std::string(c.append ? "append " : "set ") + c.name + ": " + c.value;
    Line(out, label, text + " (" + c.scope + ")");
  }
}

}  // namespace

std::string Explain(const Request& request, const Decision& d) {
  std::ostringstream out;
  Line(out, "Request:", request.method + " " + request.scheme + "://" + request.Authority() +
                            request.path);
  for (const auto& [name, value] : request.headers) Line(out, "  header:", name + ": " + value);
  if (d.listener.empty()) {
    Line(out, "Listener:", "none");
  } else {
    Line(out, "Listener:", d.listener + (d.filter_chain.empty() ? "" : " (filter chain " + d.filter_chain + ")"));
  }
  if (d.http) {
    Line(out, "Route config:", d.route_config);
    Line(out, "Virtual host:", d.virtual_host.empty()
                                   ? "none"
                                   : d.virtual_host + " (domain \"" + d.matched_domain + "\")");
    if (d.route_index >= 0) {
      std::string route = "#" + std::to_string(d.route_index);
      if (!d.route_name.empty()) route += " \"" + d.route_name + "\"";
      Line(out, "Route:", route + ", match: " + d.route_match);
      if (d.config) {
        std::string kind = d.config->kind == "virtual-service" ? "VirtualService" : d.config->kind;
        Line(out, kind + ":", d.config->ns + "/" + d.config->name +
                                  (d.route_name.empty() ? "" : ", rule \"" + d.route_name + "\""));
      } else if (d.virtual_host == "allow_any") {
        Line(out, "VirtualService:", "none (unknown host, outbound traffic policy)");
      } else {
        Line(out, "VirtualService:", "none (default route, no VirtualService)");
      }
    }
  }
  switch (d.outcome) {
    case Decision::Outcome::kCluster:
      Line(out, "Result:", "route to cluster " + d.cluster);
      break;
    case Decision::Outcome::kTcpProxy:
      Line(out, "Result:", "TCP proxy to cluster " + d.cluster);
      break;
    case Decision::Outcome::kWeightedClusters:
      Line(out, "Result:", "split over weighted clusters");
      for (const auto& w : d.weighted_clusters) {
        Line(out, "", Percent(w.percent) + "  " + w.cluster + " (weight " + std::to_string(w.weight) + ")");
      }
      break;
    case Decision::Outcome::kRedirect:
      Line(out, "Result:", "redirect " + std::to_string(d.redirect_code) + " to " + d.redirect_location);
      break;
    case Decision::Outcome::kDirectResponse:
      Line(out, "Result:", "direct response " + std::to_string(d.direct_status) +
                               (d.direct_body.empty() ? "" : " body \"" + d.direct_body + "\""));
      break;
    case Decision::Outcome::kNoVirtualHost:
      Line(out, "Result:", "404, no virtual host matches the authority");
      break;
    case Decision::Outcome::kNoRoute:
      Line(out, "Result:", "404 NR, no route matched");
      break;
    case Decision::Outcome::kNoFilterChain:
      Line(out, "Result:", "connection closed, no filter chain matched");
      break;
    case Decision::Outcome::kNoListener:
      Line(out, "Result:", "no listener handles this port");
      break;
  }
  for (const auto& c : d.missing_clusters) {
    Line(out, "Missing cluster:", c + " is not in the proxy's clusters: Envoy answers 503 (NC)");
  }
  if (d.timeout_ms) {
    Line(out, "Timeout:", Millis(*d.timeout_ms));
  } else if (d.outcome == Decision::Outcome::kCluster ||
             d.outcome == Decision::Outcome::kWeightedClusters) {
    if (d.http) Line(out, "Timeout:", "not set (Envoy's default 15s)");
  }
  if (d.retry) {
    std::string text = std::to_string(d.retry->num_retries) + " retries";
    if (!d.retry->retry_on.empty()) text += " on " + d.retry->retry_on;
    if (d.retry->per_try_timeout_ms) text += ", per try timeout " + Millis(*d.retry->per_try_timeout_ms);
    if (!d.retry->retriable_status_codes.empty()) {
      text += " (status";
      for (uint32_t code : d.retry->retriable_status_codes) text += " " + std::to_string(code);
      text += ")";
    }
    for (const auto& p : d.retry->host_predicates) text += ", " + p;
    Line(out, "Retries:", text);
  }
  if (d.fault) {
    if (d.fault->delay_ms) {
      Line(out, "Fault:", "delay " + Millis(*d.fault->delay_ms) + " for " + Percent(d.fault->delay_percent) +
                              " of requests");
    }
    if (d.fault->abort_http_status) {
      Line(out, "Fault:", "abort with HTTP " + std::to_string(*d.fault->abort_http_status) + " for " +
                              Percent(d.fault->abort_percent) + " of requests");
    } else if (d.fault->abort_grpc_status) {
      Line(out, "Fault:", "abort with gRPC status " + std::to_string(*d.fault->abort_grpc_status) +
                              " for " + Percent(d.fault->abort_percent) + " of requests");
    }
  }
  for (const auto& m : d.mirrors) Line(out, "Mirror:", m.cluster + " (" + Percent(m.percent) + ")");
  if (!d.prefix_rewrite.empty()) Line(out, "Rewrite:", "prefix to " + d.prefix_rewrite);
  if (!d.regex_rewrite.empty()) Line(out, "Rewrite:", "regex " + d.regex_rewrite);
  if (!d.rewritten_path.empty()) Line(out, "Upstream path:", d.rewritten_path);
  if (!d.host_rewrite.empty()) Line(out, "Host rewrite:", d.host_rewrite);
  HeaderLines(out, "Request header:", d.request_headers);
  HeaderLines(out, "Response header:", d.response_headers);
  if (d.cors) {
    std::string text;
    for (const auto& o : d.cors->allow_origins) text += (text.empty() ? "origins " : ", ") + o;
    if (!d.cors->allow_methods.empty()) text += "; methods " + d.cors->allow_methods;
    if (!d.cors->allow_headers.empty()) text += "; headers " + d.cors->allow_headers;
    if (!d.cors->expose_headers.empty()) text += "; expose " + d.cors->expose_headers;
    if (!d.cors->max_age.empty()) text += "; max age " + d.cors->max_age;
    if (d.cors->allow_credentials) text += std::string("; credentials ") + (*d.cors->allow_credentials ? "true" : "false");
    Line(out, "CORS:", text);
  }
  for (const auto& n : d.notes) Line(out, "Note:", n);
  return out.str();
}

}  // namespace cmesh::simulator
