// The state machine of one incremental (delta) ADS stream; same contract as SotwStream. Each
// resource is tracked with the version the client holds, so only changed resources are sent and
// deletions travel as removed_resources.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cmesh/xds/clock.h"
#include "cmesh/xds/response.h"
#include "cmesh/xds/snapshot.h"
#include "cmesh/xds/stream_status.h"
#include "cmesh/xds/subscription.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds {

class DeltaStream {
 public:
  // `clock` and `callbacks` (may be null) must outlive the stream.
  explicit DeltaStream(const Clock& clock, StreamCallbacks* callbacks = nullptr);

  std::vector<DeltaResponse> OnRequest(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request);
  // Additions and updates go first, in CDS, EDS, LDS, RDS order; removals follow, in LDS, RDS,
  // CDS, EDS order, so nothing is dropped while something still references it.
  // nullptr (group cleared) sends nothing.
  std::vector<DeltaResponse> OnSnapshot(SnapshotPtr snapshot);

  const StreamStatus& status() const { return status_; }
  const Subscription& subscription(ResourceType type) const { return types_[Index(type)].subscription; }

 private:
  struct TypeState {
    explicit TypeState(ResourceType type) : subscription(type) {}
    Subscription subscription;
    bool requested = false;
    bool responded = false;
    std::string last_nonce;
    std::string answered_nonce;  // the last nonce an ACK or NACK was recorded for
    // name -> version the client holds (seeded from initial_resource_versions on reconnect).
    std::map<std::string, std::string, std::less<>> client_versions;
    // Explicitly subscribed names already reported absent; reported again only after they appear.
    std::set<std::string, std::less<>> reported_absent;
  };
  enum Parts { kUpdates = 1, kRemovals = 2, kBoth = 3 };

  std::optional<DeltaResponse> Respond(ResourceType type, Parts parts);
  void RecordAckOrNack(ResourceType type, const envoy::service::discovery::v3::DeltaDiscoveryRequest& request);

  const Clock& clock_;
  StreamCallbacks* callbacks_;
  SnapshotPtr snapshot_;
  std::array<TypeState, kResourceTypeCount> types_;
  std::uint64_t next_nonce_ = 0;
  StreamStatus status_;
};

}  // namespace cmesh::xds
