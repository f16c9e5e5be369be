// HTTP/1.x message heads as the parser sees them: views into the caller's buffer (valid while
// that buffer is), plus what RFC 9112 derives from the header fields (framing, persistence).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace cmesh::http1 {

struct Header {
  std::string_view name;   // as received (matching is case-insensitive)
  std::string_view value;  // without surrounding whitespace
};

// How the body that follows a head is delimited (RFC 9112 section 6.3).
enum class BodyFraming {
  kNone,           // no body (no Content-Length/Transfer-Encoding; HEAD, 1xx, 204, 304 answers)
  kContentLength,  // exactly content_length bytes
  kChunked,        // chunked transfer coding (ChunkedDecoder)
  kUntilClose,     // responses only: everything until the connection closes
};

struct Limits {
  // Envoy's defaults: 60 KiB of request headers and at most 100 of them.
  std::size_t max_head_bytes = 60 * 1024;
  std::size_t max_headers = 100;
};

// Case-insensitive ASCII comparison (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct MessageHead {
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1 (a higher 1.x is handled as 1.1)
  std::vector<Header> headers;
  BodyFraming framing = BodyFraming::kNone;
  std::uint64_t content_length = 0;  // when framing is kContentLength
  bool keep_alive = true;            // by version and the Connection header

  // The first header of that name, or nullopt.
  std::optional<std::string_view> Find(std::string_view name) const;
  // Whether the comma-separated Connection header lists `token` (case-insensitive).
  bool ConnectionHas(std::string_view token) const;
};

struct RequestHead : MessageHead {
  std::string_view method;
  std::string_view target;      // request-target as sent: origin-form, absolute-form, ...
  bool expect_continue = false;  // "Expect: 100-continue"
};

struct ResponseHead : MessageHead {
  int status = 0;
  std::string_view reason;
};

}  // namespace cmesh::http1
