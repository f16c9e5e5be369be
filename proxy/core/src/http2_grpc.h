// gRPC over the HTTP/2 connection manager: recognising gRPC requests, and the gRPC status of
// answers the proxy makes itself (Envoy's mapping, from gRPC's http-grpc-status-mapping.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cmesh/http2/types.h"

namespace cmesh::proxy_core {

// A gRPC request: content-type application/grpc, with or without a "+proto"-style suffix.
bool IsGrpcRequest(const http2::HeaderList& headers);

// The gRPC status a proxy-generated HTTP status maps to: 400 INTERNAL, 401 UNAUTHENTICATED,
// 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, anything else UNKNOWN.
std::uint32_t GrpcStatusForHttp(int http_status);

// grpc-message's value: percent-encoding of bytes outside 0x20-0x7e and of '%' (gRPC's spec).
std::string GrpcPercentEncode(std::string_view message);

// The grpc-status of a header block (trailers, or a trailers-only response), if valid.
std::optional<int> GrpcStatusOf(const http2::HeaderList& headers);

}  // namespace cmesh::proxy_core
