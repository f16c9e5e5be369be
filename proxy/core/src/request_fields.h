// Reading fields of a request the proxy holds (its owned header list and path), and making the
// ones it adds: shared by the connection manager's parts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/event/random.h"
#include "cmesh/http1/encoder.h"

namespace cmesh::proxy_core {

// The first header of that name (case-insensitive), or nullptr.
const std::string* FindHeader(const std::vector<http1::OwnedHeader>& headers, std::string_view name);
std::string* FindHeaderMutable(std::vector<http1::OwnedHeader>& headers, std::string_view name);
// The first value of query parameter `name` in `path` (not decoded: hashing needs no more).
std::optional<std::string> QueryParameter(std::string_view path, std::string_view name);
// The value of cookie `name` in the Cookie headers (quotes around the value removed).
std::optional<std::string> Cookie(const std::vector<http1::OwnedHeader>& headers, std::string_view name);
// A new x-request-id: a UUID version 4 from the worker's random source.
std::string NewRequestId(event::Random& random);

}  // namespace cmesh::proxy_core
