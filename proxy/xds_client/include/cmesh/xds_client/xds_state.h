// The configuration the xDS client hands to the proxy: the accepted resources of every type, by
// name, with the version each type was ACKed at. Immutable once delivered; resources unchanged
// between two states are the same objects, so a consumer can compare them to skip rebuilding.
//
// A resource is kept as the bytes it arrived in, not as a decoded protobuf: decoded, a 1,000-
// service mesh took about 15 MB (protobuf objects are several times their wire size), for
// something the proxy reads only when it compiles what changed and when /config_dump shows it.
// Both decode on demand (Decode()).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/xds_client/xds_type.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::xds_client {

// What is kept of one accepted resource. Shared by every state that holds the resource unchanged.
struct ResourceRecord {
  std::string bytes;       // the serialised resource, as received
  std::uint64_t hash = 0;  // HashBytes(bytes): an unchanged resource keeps its record
  // The names it makes the client subscribe to: an EDS cluster's EDS service name, the RDS route
  // names of a listener's HTTP connection managers (see references.h). Kept so that neither the
  // subscriptions nor the snapshot builder decode every cluster to find them. An EDS cluster
  // whose service name is its own name (Istio's case) stores none and sets references_itself.
  std::vector<std::string> references;
  bool references_itself = false;
};

template <typename T>
class Resource {
 public:
  Resource() = default;
  explicit Resource(std::shared_ptr<const ResourceRecord> record) : record_(std::move(record)) {}

  // A fresh copy of the protobuf. Cannot fail on what the client accepted (the same bytes were
  // parsed then); an empty record decodes to an empty message.
  T Decode() const {
    T message;
    if (record_) message.ParseFromString(record_->bytes);
    return message;
  }
  // The same as Decode(), for code written against decoded maps (the admin page's dump).
  T operator*() const { return Decode(); }

  const std::string& bytes() const { return record_ ? record_->bytes : Empty(); }
  std::uint64_t hash() const { return record_ ? record_->hash : 0; }
  const ResourceRecord* record() const { return record_.get(); }
  const std::shared_ptr<const ResourceRecord>& shared_record() const { return record_; }
  explicit operator bool() const { return record_ != nullptr; }

  // Identity, not content: true when both states hold the very same accepted resource.
  friend bool operator==(const Resource& a, const Resource& b) { return a.record_ == b.record_; }

 private:
  static const std::string& Empty() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const ResourceRecord> record_;
};

// The record of a resource that arrived as `bytes` and decodes to `message`.
std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::cluster::v3::Cluster& message, std::string bytes);
std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::endpoint::v3::ClusterLoadAssignment& message,
                                                 std::string bytes);
std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::listener::v3::Listener& message, std::string bytes);
std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::route::v3::RouteConfiguration& message,
                                                 std::string bytes);

// A resource built from a message (tests, and anything that builds a state by hand).
template <typename T>
Resource<T> MakeResource(const T& message) {
  return Resource<T>(MakeRecord(message, message.SerializeAsString()));
}

// The resources of one type by name: a read-only map shared, copy-on-write, by the xDS client's
// working set and every state it delivered until the type changes. So a delivery copies
// nothing, and an idle proxy holds each type's map once instead of once per holder.
template <typename T>
class ResourceMap {
 public:
  using Map = std::map<std::string, Resource<T>, std::less<>>;
  using const_iterator = typename Map::const_iterator;
  using iterator = const_iterator;
  using value_type = typename Map::value_type;
  using key_type = typename Map::key_type;
  using mapped_type = typename Map::mapped_type;
  using size_type = typename Map::size_type;

  ResourceMap() = default;
  explicit ResourceMap(Map map) : map_(std::make_shared<Map>(std::move(map))) {}

  const_iterator begin() const { return map_ ? map_->cbegin() : Empty().cbegin(); }
  const_iterator end() const { return map_ ? map_->cend() : Empty().cend(); }
  const_iterator find(std::string_view name) const { return map_ ? map_->find(name) : Empty().cend(); }
  bool contains(std::string_view name) const { return map_ && map_->contains(name); }
  // Throws std::out_of_range as std::map::at does.
  const Resource<T>& at(std::string_view name) const {
    auto it = find(name);
    if (it == end()) throw std::out_of_range("no resource named " + std::string(name));
    return it->second;
  }
  size_type size() const { return map_ ? map_->size() : 0; }
  bool empty() const { return size() == 0; }

  // The map to change: a copy first when anyone else holds it (a delivered state is immutable).
  // Only the xDS client's thread (or whoever builds a state) calls it; a state shared with
  // other threads is never changed in place.
  Map& Mutable() {
    if (!map_) {
      map_ = std::make_shared<Map>();
    } else if (map_.use_count() > 1) {
      map_ = std::make_shared<Map>(*map_);
    } else {
      // Ours alone: whoever held it last is done reading it before we write.
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *map_;
  }
  Resource<T>& operator[](std::string_view name) {
    Map& map = Mutable();
    auto it = map.find(name);
    if (it == map.end()) it = map.emplace(std::string(name), Resource<T>()).first;
    return it->second;
  }

 private:
  static const Map& Empty() {
    static const Map empty;
    return empty;
  }
  std::shared_ptr<Map> map_;  // null: empty
};

struct XdsState {
  ResourceMap<envoy::config::cluster::v3::Cluster> clusters;
  // By EDS service name (the cluster's eds_cluster_config.service_name, else its name).
  ResourceMap<envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;
  ResourceMap<envoy::config::listener::v3::Listener> listeners;
  ResourceMap<envoy::config::route::v3::RouteConfiguration> routes;

  // version_info of the last accepted response, per type (empty: none accepted).
  std::array<std::string, kXdsTypeCount> versions;
  // Names referenced but not (yet) received, as "EDS NAME" / "RDS NAME". Empty except when the
  // client stopped waiting for them: the very first config once every type was answered, or a
  // name still missing after the warming timeout.
  std::vector<std::string> missing;
  // 1 for the first state delivered, then +1 per delivery.
  std::uint64_t generation = 0;

  const std::string& version(XdsType type) const { return versions[Index(type)]; }
  bool complete() const { return missing.empty(); }

  // The name of the ClusterLoadAssignment an EDS cluster of this state reads (its entry in
  // `endpoints`), without decoding it; empty for a cluster of another type.
  static std::string_view EdsServiceName(std::string_view cluster_name,
                                         const Resource<envoy::config::cluster::v3::Cluster>& cluster);
};

using XdsStatePtr = std::shared_ptr<const XdsState>;

// 64-bit FNV-1a, for telling changed resources from unchanged ones.
std::uint64_t HashBytes(std::string_view bytes);

}  // namespace cmesh::xds_client
