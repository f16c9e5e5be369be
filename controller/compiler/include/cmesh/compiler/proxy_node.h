// The proxy a compilation is for, as Istio identifies a sidecar.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cmesh/model/common.h"

namespace cmesh::compiler {

struct ProxyNode {
  std::string id;        // sidecar~10.1.0.7~productpage-v1-abc.default~default.svc.cluster.local
  std::string type;      // "sidecar"
  std::string ip;        // 10.1.0.7
  std::string pod_name;  // productpage-v1-abc
  std::string ns;        // default
  std::string domain;    // default.svc.cluster.local
  model::Labels labels;  // the workload's labels (sourceLabels and workloadSelector use them)
  // Node metadata GENERATOR, as the client's bootstrap sets it (empty when absent). Istio's
  // convention: "grpc" marks a proxyless gRPC client (see grpc_proxyless.h), which gets
  // CompileProxylessGrpc's output instead of a sidecar's. ParseNodeId leaves it empty; the xDS
  // server fills it from the request's node metadata. Compile() ignores it.
  std::string generator;
};

// Parses `sidecar~IP~POD.NS~NS.svc.cluster.local`. On failure returns nullopt and says why in
// `*error` (which field is missing or malformed).
std::optional<ProxyNode> ParseNodeId(std::string_view node_id, std::string* error);

}  // namespace cmesh::compiler
