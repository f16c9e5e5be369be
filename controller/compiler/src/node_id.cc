// Istio's sidecar node id: TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN.
#include <vector>

#include "cmesh/compiler/proxy_node.h"

namespace cmesh::compiler {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

bool LooksLikeIp(std::string_view ip) {
  if (ip.empty()) return false;
  for (char c : ip) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<ProxyNode> ParseNodeId(std::string_view node_id, std::string* error) {
  const std::string quoted = "node id \"" + std::string(node_id) + "\": ";
  auto parts = Split(node_id, '~');
  if (parts.size() != 4) {
    Fail(error, quoted + "expected 4 fields TYPE~IP~POD.NAMESPACE~DOMAIN separated by '~', got " +
                    std::to_string(parts.size()));
    return std::nullopt;
  }
  ProxyNode node;
  node.id = std::string(node_id);
  node.type = std::string(parts[0]);
  if (node.type != "sidecar") {
    Fail(error, quoted + "type \"" + node.type + "\" is not supported (only \"sidecar\")");
    return std::nullopt;
  }
  if (!LooksLikeIp(parts[1])) {
    Fail(error, quoted + "IP field \"" + std::string(parts[1]) + "\" is not an IP address");
    return std::nullopt;
  }
  node.ip = std::string(parts[1]);
  std::string_view pod = parts[2];
  size_t dot = pod.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == pod.size()) {
    Fail(error, quoted + "third field \"" + std::string(pod) + "\" must be POD.NAMESPACE");
    return std::nullopt;
  }
  node.pod_name = std::string(pod.substr(0, dot));
  node.ns = std::string(pod.substr(dot + 1));
  node.domain = std::string(parts[3]);
  const std::string want_prefix = node.ns + ".svc.";
  if (node.domain.rfind(want_prefix, 0) != 0 || node.domain.size() == want_prefix.size()) {
    Fail(error, quoted + "domain \"" + node.domain + "\" must be " + node.ns +
                    ".svc.<cluster domain> (the pod's namespace)");
    return std::nullopt;
  }
  return node;
}

}  // namespace cmesh::compiler
