// Route tables by content. The xDS client's validator compiles every RouteConfiguration it is
// sent (a bad one must be NACKed), and the snapshot builder needs the same tables right after:
// both ask this cache, so each configuration is compiled once. It keeps the latest table per
// route name; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cmesh/router/route_table.h"
#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::proxy_core {

class RouteTableCache {
 public:
  // The table for `config` (compiled now unless the same content was compiled last for its
  // name), or nullptr with Build's error.
  std::shared_ptr<const router::RouteTable> Get(const envoy::config::route::v3::RouteConfiguration& config,
                                                std::string* error);

 private:
  // What tells one configuration's content from another's: the length and two independent
  // 64-bit hashes of its deterministic serialisation. Keeping the serialisation itself cost as
  // much memory as the configuration's wire size (about 2 MB for 1,000 services).
  struct Fingerprint {
    std::size_t size = 0;
    std::uint64_t fnv = 0;
    std::uint64_t murmur = 0;
    bool operator==(const Fingerprint&) const = default;
  };
  struct Entry {
    Fingerprint content;
    std::shared_ptr<const router::RouteTable> table;
    std::string error;
  };
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace cmesh::proxy_core
