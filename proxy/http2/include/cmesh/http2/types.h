#pragma once
// The vocabulary of the HTTP/2 sessions: header lists, RFC 9113 error codes, the local settings.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmesh::http2 {

// Header fields in wire order, pseudo-headers (":method", ":status", ...) first, names lowercase.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The value of the first field called `name` (exact, lowercase), or an empty view.
std::string_view FindHeader(const HeaderList& headers, std::string_view name);

// RFC 9113 §7 error codes, so callers need not include nghttp2.h.
enum ErrorCode : std::uint32_t {
  kNoError = 0x0,
  kProtocolError = 0x1,
  kInternalError = 0x2,
  kFlowControlError = 0x3,
  kSettingsTimeout = 0x4,
  kStreamClosed = 0x5,
  kFrameSizeError = 0x6,
  kRefusedStream = 0x7,
  kCancel = 0x8,
  kCompressionError = 0x9,
  kConnectError = 0xa,
  kEnhanceYourCalm = 0xb,
  kInadequateSecurity = 0xc,
  kHttp11Required = 0xd,
};

// What this side announces in its SETTINGS, and enforces. Defaults: RFC 9113's recommended
// minimum of 100 streams, Envoy's 60 KiB header limit, windows large enough for a LAN's
// bandwidth-delay product without letting one stream buffer megabytes in the proxy.
struct Settings {
  std::uint32_t max_concurrent_streams = 100;
  std::uint32_t max_header_list_size = 60 * 1024;       // name + value + 32 per field, as RFC 9113 counts
  std::uint32_t initial_stream_window = 256 * 1024;     // per stream, bytes the peer may send unconsumed
  std::uint32_t initial_connection_window = 1024 * 1024;
  std::uint32_t max_frame_size = 16 * 1024;             // the largest frame we accept
};

}  // namespace cmesh::http2
