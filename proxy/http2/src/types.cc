#include "cmesh/http2/types.h"

namespace cmesh::http2 {

std::string_view FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

}  // namespace cmesh::http2
