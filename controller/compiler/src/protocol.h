// The application protocol of a service port, as Istio decides it: appProtocol first, then the
// port name's prefix ("http", "http-web", "grpc-api", ...). Ports declaring neither are treated
// as unknown: their listeners sniff (Envoy's http_inspector), an HTTP chain for connections that
// start with HTTP and a tcp_proxy chain for the rest, as Istio's "auto" protocol does.
#pragma once

#include "cmesh/model/kubernetes.h"

namespace cmesh::compiler {

enum class Protocol { kTcp, kHttp, kHttp2, kGrpc, kGrpcWeb, kUdp, kUnknown };

Protocol PortProtocol(const model::ServicePort& port);

inline bool IsHttp(Protocol p) {
  return p == Protocol::kHttp || p == Protocol::kHttp2 || p == Protocol::kGrpc ||
         p == Protocol::kGrpcWeb;
}
// Ports whose traffic may be HTTP or not: their listeners sniff, and they have HTTP routes too.
inline bool IsSniffed(Protocol p) { return p == Protocol::kUnknown; }
inline bool HasHttpRoutes(Protocol p) { return IsHttp(p) || IsSniffed(p); }
// Protocols whose upstream connections must speak HTTP/2.
inline bool IsHttp2(Protocol p) { return p == Protocol::kHttp2 || p == Protocol::kGrpc; }

}  // namespace cmesh::compiler
