// What the route simulator decided an Envoy sidecar does with one outbound request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::simulator {

struct WeightedTarget {
  std::string cluster;
  uint32_t weight = 0;
  double percent = 0;  // weight / total * 100
};

struct RetryInfo {
  std::string retry_on;
  uint32_t num_retries = 1;  // Envoy's default when the policy leaves it unset
  std::optional<int64_t> per_try_timeout_ms;
  std::vector<std::string> host_predicates;
  std::vector<uint32_t> retriable_status_codes;
};

struct FaultInfo {
  std::optional<int64_t> delay_ms;
  double delay_percent = 0;
  std::optional<uint32_t> abort_http_status;
  std::optional<uint32_t> abort_grpc_status;
  double abort_percent = 0;
};

struct MirrorInfo {
  std::string cluster;
  double percent = 100;
};

struct HeaderChange {
  std::string name;
  std::string value;   // empty for removals
  bool append = false;
  bool remove = false;
  std::string scope;   // "virtual host", "route" or the weighted cluster's name
};

struct CorsInfo {
  std::vector<std::string> allow_origins;  // rendered matchers, e.g. "exact:https://a.example"
  std::string allow_methods;
  std::string allow_headers;
  std::string expose_headers;
  std::string max_age;
  std::optional<bool> allow_credentials;
};

// The Istio object a route was generated from, read from its metadata
// filter_metadata["istio"]["config"] ("/apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME").
struct ConfigRef {
  std::string raw;
  std::string kind;  // "virtual-service"
  std::string ns;
  std::string name;
};

struct Decision {
  enum class Outcome {
    kCluster,           // routed to one cluster
    kWeightedClusters,  // split over several clusters
    kRedirect,          // Envoy answers with a redirect
    kDirectResponse,    // Envoy answers directly (also REGISTRY_ONLY's 502)
    kNoVirtualHost,     // 404, no virtual host for the :authority
    kNoRoute,           // 404 NR, no route of the virtual host matched
    kTcpProxy,          // a TCP listener forwards the connection to `cluster`
    kNoFilterChain,     // the listener has no filter chain for the connection: it is closed
    kNoListener,        // nothing handles the port (no virtualOutbound either)
  };
  Outcome outcome = Outcome::kNoListener;

  // Where the request was handled.
  std::string listener;
  std::string filter_chain;
  bool http = false;
  std::string route_config;  // RDS name, or "(inline)" for an inline route configuration
  std::string virtual_host;
  std::string matched_domain;
  int route_index = -1;  // position in the virtual host's routes
  std::string route_name;
  std::string route_match;  // the route's match, rendered ("prefix /", "path /x, header a=b")
  std::optional<ConfigRef> config;

  // The action.
  std::string cluster;  // kCluster, kTcpProxy
  std::vector<WeightedTarget> weighted_clusters;
  std::string redirect_location;
  uint32_t redirect_code = 0;
  uint32_t direct_status = 0;
  std::string direct_body;

  // Route settings.
  std::optional<int64_t> timeout_ms;  // nullopt: not set, Envoy's default 15s applies; 0 disables
  std::optional<RetryInfo> retry;
  std::optional<FaultInfo> fault;
  std::vector<MirrorInfo> mirrors;
  std::string prefix_rewrite;
  std::string regex_rewrite;   // "PATTERN -> SUBSTITUTION"
  std::string host_rewrite;
  std::string rewritten_path;  // the :path upstream after rewrites; empty when unchanged
  std::vector<HeaderChange> request_headers;
  std::vector<HeaderChange> response_headers;
  std::optional<CorsInfo> cors;

  // Target clusters the proxy has no Cluster for (only checked when the simulator is given the
  // proxy's cluster names): Envoy answers 503 with response flag NC for them.
  std::vector<std::string> missing_clusters;

  // Things the simulator noticed but does not model (e.g. a match field it ignores).
  std::vector<std::string> notes;

  // The HTTP status Envoy itself answers with, 0 when the request is forwarded (503 when the only
  // target cluster is missing).
  uint32_t LocalStatus() const;
};

const char* OutcomeName(Decision::Outcome outcome);

}  // namespace cmesh::simulator
