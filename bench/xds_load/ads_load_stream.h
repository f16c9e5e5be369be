// One ADS state-of-the-world stream of one simulated sidecar, on gRPC's callback API (no thread
// per stream). It subscribes as Envoy does: CDS and LDS wildcard; then EDS for the EDS clusters
// CDS names and RDS for the route names of the listeners' HTTP connection managers, each new
// subscription sent before the ACK of the response that caused it. Every response is ACKed
// (version and nonce echoed), or NACKed with the reason when its content does not decode.
//
// Milestones: `synced` once all four types are ACKed and every subscribed EDS/RDS name has
// arrived; `change_acked` once, after ArmChange(), an RDS response with a version other than the
// one ACKed at arming time is ACKed.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "load_counters.h"
#include "milestones.h"
#include "response_digest.h"

namespace cmesh::xds_load {

struct StreamShared {
  DigestCache* digests;
  LoadCounters* counters;
  Milestones* synced;
  Milestones* change_acked;
};

class AdsLoadStream final
    : public grpc::ClientBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                                     envoy::service::discovery::v3::DiscoveryResponse> {
 public:
  AdsLoadStream(std::size_t index, envoy::config::core::v3::Node node, StreamShared shared);

  // Opens the stream on `stub` and sends the CDS and LDS wildcard requests.
  void Start(envoy::service::discovery::v3::AggregatedDiscoveryService::Stub* stub);
  // Ends the stream from the client side; OnDone follows.
  void Cancel();
  // Remembers the RDS version ACKed now; the next different one ACKed reaches change_acked.
  void ArmChange();

  bool done() const;
  // For diagnosing streams that never synced: e.g. "cds=acked eds=3/400 lds=acked rds=none".
  std::string Describe() const;
  std::size_t resource_count(XdsType type) const;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  struct TypeState {
    std::string acked_version;
    std::string nonce;
    std::vector<std::string> subscription;  // EDS/RDS: the explicit names
    std::set<std::string> received;         // EDS/RDS: names that arrived
    std::size_t last_count = 0;             // resources in the last response
    bool acked = false;
    bool requested = false;
  };

  TypeState& state(XdsType type) { return types_[static_cast<std::size_t>(type)]; }
  const TypeState& state(XdsType type) const { return types_[static_cast<std::size_t>(type)]; }
  envoy::service::discovery::v3::DiscoveryRequest Request(XdsType type) const;
  bool SyncedLocked() const;
  // Queues requests; returns the one to hand to StartWrite (outside the lock), if any.
  const envoy::service::discovery::v3::DiscoveryRequest* EnqueueLocked(
      std::vector<envoy::service::discovery::v3::DiscoveryRequest> requests);

  const std::size_t index_;
  const envoy::config::core::v3::Node node_;
  const StreamShared shared_;
  grpc::ClientContext context_;
  envoy::service::discovery::v3::DiscoveryResponse response_;

  mutable std::mutex mu_;
  std::array<TypeState, kXdsTypeCount> types_;
  std::deque<envoy::service::discovery::v3::DiscoveryRequest> writes_;  // front() is in flight
  bool write_in_flight_ = false;
  bool write_failed_ = false;
  bool synced_ = false;
  bool change_armed_ = false;
  bool change_reached_ = false;
  std::string change_from_version_;
  bool cancelled_ = false;
  bool done_ = false;
};

// Istio's sidecar node id and the metadata the benchmark's nodes share: stream K is
// sidecar~10.a.b.c~load-K.NS~NS.svc.cluster.local, with LABELS in the metadata.
envoy::config::core::v3::Node MakeLoadNode(std::size_t index, const std::string& ns,
                                           const std::map<std::string, std::string>& labels);

}  // namespace cmesh::xds_load
