#include "http2_fields.h"

namespace cmesh::proxy_core::http2_fields {

bool DropRequestField(std::string_view name, std::string_view value) {
  if (name == "connection" || name == "keep-alive" || name == "proxy-connection" || name == "transfer-encoding" ||
      name == "upgrade" || name == "host") {
    return true;
  }
  return name == "te" && value != "trailers";
}

std::optional<std::uint64_t> ParseDecimal(std::string_view value) {
  if (value.empty() || value.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace cmesh::proxy_core::http2_fields
