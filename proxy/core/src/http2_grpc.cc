#include "http2_grpc.h"

#include <cctype>

namespace cmesh::proxy_core {

bool IsGrpcRequest(const http2::HeaderList& headers) {
  const std::string_view type = http2::FindHeader(headers, "content-type");
  constexpr std::string_view kGrpc = "application/grpc";
  if (type.size() < kGrpc.size()) return false;
  for (std::size_t i = 0; i < kGrpc.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kGrpc[i]) return false;
  }
  return type.size() == kGrpc.size() || type[kGrpc.size()] == '+' || type[kGrpc.size()] == ';';
}

std::uint32_t GrpcStatusForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return 13;  // INTERNAL
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

std::string GrpcPercentEncode(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7e && byte != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

std::optional<int> GrpcStatusOf(const http2::HeaderList& headers) {
  const std::string_view value = http2::FindHeader(headers, "grpc-status");
  if (value.empty() || value.size() > 3) return std::nullopt;
  int status = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    status = status * 10 + (c - '0');
  }
  return status;
}

}  // namespace cmesh::proxy_core
