// What a stream has sent and what its client has ACKed or rejected, per type: the data behind
// /debug/syncz, the NACK metric and the convergence-time histogram.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "cmesh/xds/clock.h"
#include "cmesh/xds/resource_type.h"
#include "envoy/config/core/v3/base.pb.h"
#include "google/rpc/status.pb.h"

namespace cmesh::xds {

struct NackRecord {
  ResourceType type;
  std::string rejected_version;  // version_info (SotW) / system_version_info (delta) we had sent
  std::string nonce;
  std::string message;  // the client's error_detail.message
  TimePoint at;
};

struct TypeStatus {
  std::string sent_version;  // version of the latest response of this type
  std::string sent_nonce;
  std::optional<TimePoint> sent_at;
  std::string acked_version;  // version of the latest response the client ACKed
  std::optional<TimePoint> acked_at;
  std::uint64_t responses = 0;
  std::uint64_t acks = 0;
  std::uint64_t nacks = 0;
};

struct StreamStatus {
  std::optional<envoy::config::core::v3::Node> node;  // from the stream's first request
  std::array<TypeStatus, kResourceTypeCount> types;
  std::optional<NackRecord> last_nack;
  // Requests echoing a nonce other than the latest of their type: ignored in SotW; in delta not
  // an ACK/NACK, but their subscription changes still apply.
  std::uint64_t stale_nonces = 0;
  std::uint64_t unknown_type_requests = 0;   // requests for a type URL cmesh does not serve

  const TypeStatus& For(ResourceType type) const { return types[Index(type)]; }
};

// Hooks for logging, metrics and convergence measurement. Called synchronously from the state
// machine, on whatever thread feeds it (inside the session's lock): keep them quick and never call
// back into the stream or its session.
class StreamCallbacks {
 public:
  virtual ~StreamCallbacks() = default;
  // `at` is the clock's time of the ACK (status.For(type).sent_at, when the response was produced);
  // the caller relates it to its own record of when the config change happened.
  virtual void OnAck(const StreamStatus& status, ResourceType type, const std::string& version, TimePoint at) {}
  virtual void OnNack(const StreamStatus& status, const NackRecord& nack) {}
  // Once per stream that joined a group (GroupKeyFunction was called for it), when the stream
  // ends, with the key it joined: pairs each GroupKeyFunction call with one close, so the
  // controller can forget proxies that are gone. Called without any session lock held.
  virtual void OnStreamClosed(const StreamStatus& status, const std::string& group_key) {}
};

// Records the client's answer to the latest response of `type`: a NACK when it carries
// error_detail (a NACK may repeat the new version, since gRPC keeps the valid part of a response,
// so only error_detail tells the two apart), else an ACK of the version sent. Calls `callbacks`
// (which may be null) after updating `status`.
void RecordReply(StreamStatus& status, ResourceType type, const std::string& nonce,
                 const google::rpc::Status* error_detail, TimePoint now, StreamCallbacks* callbacks);

}  // namespace cmesh::xds
