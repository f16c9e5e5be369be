// The protocol side of the proxy's ADS client, without any transport: what to request, what a
// response does to the accepted state, what to ACK or NACK, and when a new XdsState is ready to
// hand to the proxy. Single-threaded and clock-free (times are passed in), so every rule is
// unit-tested with plain protos; XdsClient owns one and feeds it a gRPC stream.
//
// The rules, as Envoy follows them over state-of-the-world ADS:
// - CDS and LDS by wildcard; EDS for the EDS clusters of the accepted CDS, RDS for the route
//   names of the accepted listeners' HTTP connection managers. Subscriptions follow the accepted
//   state, growing and shrinking; a dropped name's resource is dropped with it.
// - Every response is answered: an ACK (its version_info and nonce) or a NACK (the previous
//   version_info, its nonce, and error_detail naming each bad resource), both with the current
//   resource names. One bad resource rejects the whole response; the type keeps what it had.
// - A new stream re-sends every subscription with the versions accepted so far.
// - Make-before-break: a changed state is delivered only when it introduces no new hole (an EDS or
//   RDS name referenced but not received). Holes are tolerated in the very first state once every
//   subscribed type was answered, and in any state once the name has waited `warming_timeout`
//   (Envoy's initial_fetch_timeout), so a control plane that never sends a name cannot freeze the
//   proxy's configuration.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "cmesh/xds_client/resource_validator.h"
#include "cmesh/xds_client/xds_state.h"
#include "cmesh/xds_client/xds_type.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds_client {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

struct NackRecord {
  XdsType type = XdsType::kCluster;
  std::string rejected_version;  // the version_info of the response rejected
  std::string message;           // the error_detail sent
  TimePoint at{};
};

struct TypeStatus {
  std::string version;  // version_info last ACKed (empty: none yet)
  std::string nonce;    // of the last response on the current stream
  std::uint64_t acks = 0;
  std::uint64_t nacks = 0;
  std::size_t resources = 0;   // accepted resources held
  std::size_t subscribed = 0;  // names subscribed to (EDS/RDS; 0 for the wildcard types)
};

class AdsSession {
 public:
  struct Options {
    envoy::config::core::v3::Node node;
    const ResourceValidator* validator = nullptr;  // must outlive the session; null: the default
    std::chrono::milliseconds warming_timeout{15'000};
  };
  explicit AdsSession(Options options);

  // A new stream: the previous stream's nonces are forgotten. The requests that open it, in
  // order: CDS, EDS (if names are known), LDS, RDS (if names are known), each with the version
  // accepted last; the first carries the node.
  std::vector<envoy::service::discovery::v3::DiscoveryRequest> StartStream();

  struct Outcome {
    // To write in order: subscription changes the response caused, then its ACK or NACK.
    std::vector<envoy::service::discovery::v3::DiscoveryRequest> requests;
    XdsStatePtr config;  // non-null: a new state to deliver
  };
  Outcome OnResponse(const envoy::service::discovery::v3::DiscoveryResponse& response, TimePoint now);

  // A state held back for missing names, once their warming timeout passed; else null.
  XdsStatePtr OnTimer(TimePoint now);
  // When OnTimer may deliver something; nullopt when nothing waits on a timeout.
  std::optional<TimePoint> NextDeadline() const;

  const TypeStatus& type_status(XdsType type) const { return types_[Index(type)].status; }
  const std::set<std::string, std::less<>>& subscribed_names(XdsType type) const { return types_[Index(type)].names; }
  const std::optional<NackRecord>& last_nack() const { return last_nack_; }
  // Responses of a type URL the client does not handle; they are neither ACKed nor NACKed.
  std::uint64_t ignored_responses() const { return ignored_responses_; }
  // The last state delivered (null before the first).
  const XdsStatePtr& delivered() const { return delivered_; }

 private:
  // The resource as XdsState holds it; an unchanged resource keeps its record (same hash).
  using Stored = std::shared_ptr<const ResourceRecord>;
  struct Decoded {
    std::string name;
    Stored stored;
  };
  struct TypeState {
    std::set<std::string, std::less<>> names;  // EDS/RDS subscription
    // Since when each name of `names` without a resource has been waited for (a name that
    // arrived is not waited for any more: subscribed resources never leave but with their name).
    std::map<std::string, TimePoint, std::less<>> wanted_since;
    bool answered = false;  // a response of this type was accepted at least once
    // Per stream.
    bool requested = false;
    TypeStatus status;
  };

  envoy::service::discovery::v3::DiscoveryRequest Request(XdsType type);
  // Decodes and validates; the error messages, empty when all is well.
  std::vector<std::string> Decode(XdsType type, const envoy::service::discovery::v3::DiscoveryResponse& response,
                                  std::vector<Decoded>* out) const;
  // Calls f with the accepted map of `type` (the same f for every type's map).
  template <typename State, typename F>
  static decltype(auto) ForType(State& state, XdsType type, F&& f);
  bool Has(XdsType type, std::string_view name) const;
  std::size_t Count(XdsType type) const;
  // Applies an accepted response; true when the held resources changed.
  bool Accept(XdsType type, std::vector<Decoded> decoded);
  // Sets the EDS/RDS names; a request when the subscription changed on a stream that needs it.
  void Resubscribe(XdsType type, std::set<std::string, std::less<>> names, TimePoint now,
                   std::vector<envoy::service::discovery::v3::DiscoveryRequest>* requests);
  std::set<std::string, std::less<>> ReferencedNames(XdsType type) const;
  // "EDS name" / "RDS name" of every subscribed name without a resource.
  std::vector<std::string> Missing() const;
  bool Tolerated(XdsType type, const std::string& name, TimePoint now) const;
  XdsStatePtr MaybeDeliver(TimePoint now);
  XdsStatePtr BuildState(std::vector<std::string> missing);

  Options options_;
  DefaultResourceValidator default_validator_;
  const ResourceValidator& validator_;
  std::array<TypeState, kXdsTypeCount> types_;
  // The accepted resources; its maps are shared with the states delivered (copy-on-write), and
  // its versions, missing and generation are unused.
  XdsState accepted_;
  bool node_sent_ = false;
  bool dirty_ = false;  // accepted state changed since the last delivery
  XdsStatePtr delivered_;
  std::set<std::string, std::less<>> delivered_missing_;
  std::optional<NackRecord> last_nack_;
  std::uint64_t ignored_responses_ = 0;
};

}  // namespace cmesh::xds_client
