// The application protocol of a service port, as Istio decides it: appProtocol first, then the
// port name's prefix ("http", "http-web", "grpc-api", ...). Ports declaring neither are treated
// as TCP: cmesh does not sniff protocols yet (Istio would), so such ports get a tcp_proxy listener.
#pragma once

#include "cmesh/model/kubernetes.h"

namespace cmesh::compiler {

enum class Protocol { kTcp, kHttp, kHttp2, kGrpc, kGrpcWeb, kUdp };

Protocol PortProtocol(const model::ServicePort& port);

inline bool IsHttp(Protocol p) {
  return p == Protocol::kHttp || p == Protocol::kHttp2 || p == Protocol::kGrpc ||
         p == Protocol::kGrpcWeb;
}
// Protocols whose upstream connections must speak HTTP/2.
inline bool IsHttp2(Protocol p) { return p == Protocol::kHttp2 || p == Protocol::kGrpc; }

}  // namespace cmesh::compiler
