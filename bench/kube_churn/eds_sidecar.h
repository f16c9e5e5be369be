// One ADS state-of-the-world stream posing as a sidecar, for measuring when endpoint changes
// arrive. It subscribes as Envoy does (CDS and LDS wildcard, then EDS for the EDS clusters CDS
// names and RDS for the listeners' route names, the new subscription sent before the ACK of
// the response that caused it) and ACKs everything; each ClusterLoadAssignment it receives goes
// to an EndpointTracker. Blocking gRPC with one reader thread: all writes happen on that thread
// (after the first two), so they never overlap.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "endpoint_tracker.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "response_digest.h"  // bench/xds_load: XdsType, type URLs and response decoding

namespace cmesh::kube_churn {

struct SidecarCounters {
  std::array<std::uint64_t, xds_load::kXdsTypeCount> responses{};
  std::uint64_t bytes = 0;
  std::uint64_t nacks = 0;
};

class EdsSidecar {
 public:
  // Istio's sidecar node: sidecar~IP~client-1.NS~NS.svc.cluster.local, with NAMESPACE, LABELS,
  // INSTANCE_IPS, CLUSTER_ID and (when not empty) ISTIO_VERSION in the metadata.
  EdsSidecar(std::string target, const std::string& ns, const std::string& istio_version, EndpointTracker* tracker);
  ~EdsSidecar();

  void Start();
  void Stop();
  // Empty while the stream is open; else why it ended.
  std::string ended() const;
  SidecarCounters counters() const;
  std::size_t eds_subscription_size() const;

 private:
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;
  struct TypeState {
    std::string version;
    std::string nonce;
    std::vector<std::string> names;  // EDS/RDS subscription
  };
  void ReadLoop();
  Request MakeRequest(xds_load::XdsType type) const;
  void Handle(const Response& response);

  const std::string target_;
  envoy::config::core::v3::Node node_;
  EndpointTracker* tracker_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
  std::thread reader_;
  std::array<TypeState, xds_load::kXdsTypeCount> types_;  // reader thread only (after Start)
  mutable std::mutex mu_;
  SidecarCounters counters_;
  std::size_t eds_names_ = 0;
  std::string ended_;
};

}  // namespace cmesh::kube_churn
