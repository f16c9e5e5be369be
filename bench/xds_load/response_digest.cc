#include "response_digest.h"

#include <algorithm>
#include <functional>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace cmesh::xds_load {
namespace {

using envoy::service::discovery::v3::DiscoveryResponse;
using HttpConnectionManager = envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr std::string_view kTypeUrls[kXdsTypeCount] = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "type.googleapis.com/envoy.config.listener.v3.Listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
};
constexpr std::string_view kShortNames[kXdsTypeCount] = {"cds", "eds", "lds", "rds"};
constexpr std::string_view kHcmTypeUrl =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

// The RDS name of an HCM carried in `any`, if it uses RDS.
void AddRdsReference(const google::protobuf::Any& any, std::vector<std::string>* references,
                     std::vector<std::string>* errors, const std::string& listener) {
  if (any.type_url() != kHcmTypeUrl) return;
  HttpConnectionManager hcm;
  if (!any.UnpackTo(&hcm)) {
    errors->push_back("listener " + listener + ": HttpConnectionManager does not parse");
    return;
  }
  if (hcm.has_rds()) references->push_back(hcm.rds().route_config_name());
}

void DecodeListener(const envoy::config::listener::v3::Listener& listener, std::vector<std::string>* references,
                    std::vector<std::string>* errors) {
  auto chain = [&](const envoy::config::listener::v3::FilterChain& fc) {
    for (const auto& filter : fc.filters()) {
      if (filter.has_typed_config()) AddRdsReference(filter.typed_config(), references, errors, listener.name());
    }
  };
  for (const auto& fc : listener.filter_chains()) chain(fc);
  if (listener.has_default_filter_chain()) chain(listener.default_filter_chain());
  if (listener.has_api_listener()) {
    AddRdsReference(listener.api_listener().api_listener(), references, errors, listener.name());
  }
}

// Parses `any` as T after checking its type URL; false (with an error) otherwise.
template <typename T>
bool Unpack(const google::protobuf::Any& any, std::string_view want_url, std::size_t index, T* out,
            std::vector<std::string>* errors) {
  if (any.type_url() != want_url) {
    errors->push_back("resource " + std::to_string(index) + " has type URL \"" + any.type_url() +
                      "\" in a response of " + std::string(want_url));
    return false;
  }
  if (!any.UnpackTo(out)) {
    errors->push_back("resource " + std::to_string(index) + " does not parse as " + std::string(want_url));
    return false;
  }
  return true;
}

}  // namespace

std::string_view TypeUrl(XdsType type) { return kTypeUrls[static_cast<std::size_t>(type)]; }
std::string_view ShortName(XdsType type) { return kShortNames[static_cast<std::size_t>(type)]; }

std::optional<XdsType> TypeFromUrl(std::string_view type_url) {
  for (std::size_t i = 0; i < kXdsTypeCount; ++i) {
    if (kTypeUrls[i] == type_url) return static_cast<XdsType>(i);
  }
  return std::nullopt;
}

ResponseDigest DecodeResponse(XdsType type, const DiscoveryResponse& response) {
  ResponseDigest digest;
  digest.type = type;
  const std::string_view url = TypeUrl(type);
  for (int i = 0; i < response.resources_size(); ++i) {
    const auto& any = response.resources(i);
    const auto index = static_cast<std::size_t>(i);
    switch (type) {
      case XdsType::kCds: {
        envoy::config::cluster::v3::Cluster cluster;
        if (!Unpack(any, url, index, &cluster, &digest.errors)) break;
        digest.names.push_back(cluster.name());
        if (cluster.has_type() && cluster.type() == envoy::config::cluster::v3::Cluster::EDS) {
          const std::string& service = cluster.eds_cluster_config().service_name();
          digest.references.push_back(service.empty() ? cluster.name() : service);
        }
        break;
      }
      case XdsType::kEds: {
        envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
        if (Unpack(any, url, index, &assignment, &digest.errors)) digest.names.push_back(assignment.cluster_name());
        break;
      }
      case XdsType::kLds: {
        envoy::config::listener::v3::Listener listener;
        if (!Unpack(any, url, index, &listener, &digest.errors)) break;
        digest.names.push_back(listener.name());
        DecodeListener(listener, &digest.references, &digest.errors);
        break;
      }
      case XdsType::kRds: {
        envoy::config::route::v3::RouteConfiguration route;
        if (Unpack(any, url, index, &route, &digest.errors)) digest.names.push_back(route.name());
        break;
      }
    }
  }
  std::sort(digest.references.begin(), digest.references.end());
  digest.references.erase(std::unique(digest.references.begin(), digest.references.end()), digest.references.end());
  return digest;
}

std::shared_ptr<const ResponseDigest> DigestCache::Digest(const DiscoveryResponse& response, std::string* error) {
  auto type = TypeFromUrl(response.type_url());
  if (!type) {
    *error = "unknown type URL \"" + response.type_url() + "\"";
    return nullptr;
  }
  // The key: type, version, count and a hash over every resource's type URL and bytes. The
  // per-resource hashes are summed, so the key ignores the resources' order (go-control-plane
  // sends them in map order, different for every stream) and equal content decodes once.
  std::size_t hash = 0;
  for (const auto& any : response.resources()) {
    const std::size_t one = std::hash<std::string_view>{}(any.type_url()) * 1'000'003u ^
                            std::hash<std::string_view>{}(any.value());
    hash += one * 0x9e3779b97f4a7c15ull + (one >> 29);
  }
  std::string key = response.type_url();
  key += '\n';
  key += response.version_info();
  key += '\n';
  key += std::to_string(response.resources_size());
  key += '\n';
  key += std::to_string(hash);
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      ++hits_;
      return it->second;
    }
  }
  // Decoded outside the lock: two streams may decode the same response at once, which is
  // harmless, while other streams' lookups are not held up by a decode.
  auto digest = std::make_shared<const ResponseDigest>(DecodeResponse(*type, response));
  std::lock_guard lock(mu_);
  ++decoded_;
  if (entries_.emplace(key, digest).second) {
    order_.push_back(key);
    while (order_.size() > capacity_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }
  return digest;
}

std::uint64_t DigestCache::decoded() const {
  std::lock_guard lock(mu_);
  return decoded_;
}

std::uint64_t DigestCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

}  // namespace cmesh::xds_load
