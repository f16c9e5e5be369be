// Small helpers shared by the HTTP/2 connection manager's files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cmesh::proxy_core::http2_fields {

// The header naming the response flags of a local answer (as the HTTP/1.1 path sends it).
inline constexpr char kFlagsHeader[] = "x-cmesh-response-flags";
// Bytes waiting on one side before the other side is asked to slow down: the client's window is
// reopened only below this backlog upstream, and the upstream's below this backlog towards the
// client.
inline constexpr std::size_t kBacklog = 64 * 1024;

// Request fields that do not cross the proxy: connection-specific ones (RFC 9113 §8.2.2), Host
// (carried as :authority), and TE other than "trailers".
bool DropRequestField(std::string_view name, std::string_view value);

// A decimal number of at most 19 digits (a status, a Content-Length, a port), or nullopt.
std::optional<std::uint64_t> ParseDecimal(std::string_view value);

}  // namespace cmesh::proxy_core::http2_fields
