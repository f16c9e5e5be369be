// What a load stream needs from a DiscoveryResponse: the names of its resources and the names
// they make the client subscribe to next (EDS service names of EDS clusters, RDS names of the
// listeners' HTTP connection managers). Decoding 1,000 identical CDS responses would make the
// load tool, not the server, the bottleneck on a 2-core machine, so digests are shared through a
// cache keyed by the response's type, version and a hash of every resource's bytes: identical
// content is decoded once, and a server that sends different bytes under one version still gets
// them decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds_load {

enum class XdsType { kCds = 0, kEds = 1, kLds = 2, kRds = 3 };
inline constexpr std::size_t kXdsTypeCount = 4;
std::string_view TypeUrl(XdsType type);
std::string_view ShortName(XdsType type);  // "cds", "eds", "lds", "rds"
std::optional<XdsType> TypeFromUrl(std::string_view type_url);

struct ResponseDigest {
  XdsType type = XdsType::kCds;
  std::vector<std::string> names;       // every resource's name, in response order
  std::vector<std::string> references;  // sorted, unique (CDS: EDS names; LDS: RDS names)
  std::vector<std::string> errors;      // problems with the content (each one a NACK reason)
};

// Thread-safe: load streams on all of gRPC's callback threads share one.
class DigestCache {
 public:
  explicit DigestCache(std::size_t capacity = 64) : capacity_(capacity) {}

  // nullptr with `*error` set when the response cannot be digested at all (unknown type URL).
  std::shared_ptr<const ResponseDigest> Digest(const envoy::service::discovery::v3::DiscoveryResponse& response,
                                               std::string* error);

  std::uint64_t decoded() const;  // cache misses: responses actually decoded
  std::uint64_t hits() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const ResponseDigest>> entries_;
  std::list<std::string> order_;  // insertion order, for eviction
  std::uint64_t decoded_ = 0;
  std::uint64_t hits_ = 0;
};

// Decodes without any cache (exposed for the cache and for tests).
ResponseDigest DecodeResponse(XdsType type, const envoy::service::discovery::v3::DiscoveryResponse& response);

}  // namespace cmesh::xds_load
