// Small builders for the xDS server tests: resources shaped like what a proxyless gRPC client
// gets (api_listener + RDS over ADS, EDS clusters, assignments), requests, and a manual clock.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "cmesh/xds/clock.h"
#include "cmesh/xds/snapshot.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds::testing {

// A listener whose HTTP connection manager loads `route_name` over RDS.
envoy::config::listener::v3::Listener Listener(const std::string& name, const std::string& route_name);
// A route configuration sending everything to `cluster`.
envoy::config::route::v3::RouteConfiguration Route(const std::string& name, const std::string& cluster);
// An EDS cluster over ADS.
envoy::config::cluster::v3::Cluster EdsCluster(const std::string& name);
// An assignment with one endpoint per address, in one weighted locality.
envoy::config::endpoint::v3::ClusterLoadAssignment Assignment(const std::string& cluster,
                                                              std::initializer_list<std::string> ips);

// A consistent snapshot of the mesh in the tests: for each service S, listener S:80 → route
// S-route → cluster S → assignment S at `ip` (the ip changes the assignment's version only).
SnapshotPtr MeshSnapshot(const std::map<std::string, std::string>& service_ips);

envoy::service::discovery::v3::DiscoveryRequest Request(ResourceType type, std::vector<std::string> names,
                                                        const std::string& nonce = "",
                                                        const std::string& version = "");
envoy::service::discovery::v3::DiscoveryRequest Nack(ResourceType type, std::vector<std::string> names,
                                                     const std::string& nonce, const std::string& message);
envoy::service::discovery::v3::DeltaDiscoveryRequest DeltaRequest(ResourceType type,
                                                                  std::vector<std::string> subscribe,
                                                                  std::vector<std::string> unsubscribe = {},
                                                                  const std::string& nonce = "");

class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  TimePoint now_{std::chrono::seconds(1000)};
};

// Names of the resources in a response, in order.
template <typename ResponseT>
std::vector<std::string> Names(const ResponseT& response) {
  std::vector<std::string> names;
  for (const auto& resource : response.resources) names.push_back(resource->name);
  return names;
}

}  // namespace cmesh::xds::testing
