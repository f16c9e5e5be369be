// A route's hash policies (RouteAction.hash_policy, which Istio writes for a DestinationRule's
// consistentHash): what the connection manager hashes to pick an endpoint of a RING_HASH (or
// MAGLEV) cluster, combined in order as Envoy does, stopping after a terminal one that produced
// a value.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace cmesh::router {

struct HashPolicy {
  enum class Kind { kHeader, kCookie, kSourceIp, kQueryParameter };
  Kind kind = Kind::kHeader;
  std::string name;  // header (lower case), cookie or query parameter name
  bool terminal = false;
  // kCookie: when the request has no such cookie and a TTL is set, the proxy makes one (its
  // value derived from the client's address), hashes it, and sets it on the answer.
  std::optional<std::chrono::seconds> cookie_ttl;
  std::string cookie_path;
};

}  // namespace cmesh::router
