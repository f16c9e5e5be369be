// The state machine of one state-of-the-world ADS stream. Pure: it is fed the stream's requests
// and the snapshots of the stream's group, and returns the responses to write, in order. It never
// blocks, reads a clock other than the injected one, or touches the transport; the gRPC layer
// owns one per stream and serialises calls into it.
//
// The node arrives with the first request; the transport then derives the group key from
// status().node, looks the snapshot up in the SnapshotSource, watches the group, and feeds
// every snapshot to OnSnapshot.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/xds/clock.h"
#include "cmesh/xds/response.h"
#include "cmesh/xds/snapshot.h"
#include "cmesh/xds/stream_status.h"
#include "cmesh/xds/subscription.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds {

class SotwStream {
 public:
  // `clock` and `callbacks` (may be null) must outlive the stream.
  explicit SotwStream(const Clock& clock, StreamCallbacks* callbacks = nullptr);

  std::vector<SotwResponse> OnRequest(const envoy::service::discovery::v3::DiscoveryRequest& request);
  // A new snapshot for the stream's group (nullptr: the group was cleared; the client keeps what
  // it has and nothing is sent). Responses come in CDS, EDS, LDS, RDS order.
  std::vector<SotwResponse> OnSnapshot(SnapshotPtr snapshot);

  const StreamStatus& status() const { return status_; }
  const Subscription& subscription(ResourceType type) const { return types_[Index(type)].subscription; }

 private:
  struct TypeState {
    explicit TypeState(ResourceType type) : subscription(type) {}
    Subscription subscription;
    bool requested = false;  // the client has asked for this type on this stream
    bool responded = false;
    std::string last_nonce;
    std::string answered_nonce;  // the last nonce an ACK or NACK was recorded for
    // What the client holds, as far as this stream knows: the resources of `held_from` that the
    // subscription of that time selected (`held_wildcard`, `held_names`). Two shared pointers and
    // a flag, whatever the number of resources: streams do not keep per-resource state, which is
    // what keeps thousands of them cheap. Changes are found by comparing snapshots (the group's
    // snapshots cache their difference, see Snapshot::ChangedSince).
    SnapshotPtr held_from;
    NameSetPtr held_names;
    bool held_wildcard = false;
  };

  std::optional<SotwResponse> Respond(ResourceType type);
  void RecordAckOrNack(ResourceType type, const envoy::service::discovery::v3::DiscoveryRequest& request);

  const Clock& clock_;
  StreamCallbacks* callbacks_;
  SnapshotPtr snapshot_;
  std::array<TypeState, kResourceTypeCount> types_;
  std::uint64_t next_nonce_ = 0;
  StreamStatus status_;
};

}  // namespace cmesh::xds
