#include "protocol.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace cmesh::compiler {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<Protocol> FromName(const std::string& name) {
  if (name == "http" || name == "http_proxy" || name == "kubernetes.io/ws" ||
      name == "kubernetes.io/wss") {
    return Protocol::kHttp;
  }
  if (name == "http2" || name == "h2c" || name == "kubernetes.io/h2c") return Protocol::kHttp2;
  if (name == "grpc") return Protocol::kGrpc;
  if (name == "grpc-web") return Protocol::kGrpcWeb;
  if (name == "tcp" || name == "tls" || name == "https" || name == "mongo" || name == "redis" ||
      name == "mysql" || name == "thrift") {
    return Protocol::kTcp;
  }
  if (name == "udp") return Protocol::kUdp;
  return std::nullopt;
}

}  // namespace

Protocol PortProtocol(const model::ServicePort& port) {
  if (Lower(port.protocol) == "udp") return Protocol::kUdp;
  if (!port.app_protocol.empty()) {
    if (auto p = FromName(Lower(port.app_protocol))) return *p;
  }
  std::string name = Lower(port.name);
  // "grpc-web" is a protocol of its own; otherwise the prefix ends at the first '-'.
  if (name == "grpc-web" || name.rfind("grpc-web-", 0) == 0) return Protocol::kGrpcWeb;
  std::string prefix = name.substr(0, name.find('-'));
  if (auto p = FromName(prefix)) return *p;
  return Protocol::kUnknown;
}

}  // namespace cmesh::compiler
