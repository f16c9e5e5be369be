// Turning responses into what goes on the wire. Encode* writes the DiscoveryResponse bytes by
// copying each resource's already-serialised Any: no resource is marshalled again per stream.
// ToProto* builds the message for transports that want a typed protobuf.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/xds/response.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds {

envoy::service::discovery::v3::DiscoveryResponse ToProto(const SotwResponse& response);
envoy::service::discovery::v3::DeltaDiscoveryResponse ToProto(const DeltaResponse& response);

// Serialised envoy.service.discovery.v3.DiscoveryResponse / DeltaDiscoveryResponse.
std::string Encode(const SotwResponse& response);
std::string Encode(const DeltaResponse& response);

// The same bytes as Encode, in pieces a transport can hand over without copying the resources:
// a piece either owns a few bytes (field headers, names, small values) or views a resource's
// serialised value, kept alive by `owner`. Values of at least `share_from` bytes are viewed;
// smaller ones are cheaper to copy than to reference.
struct WirePiece {
  std::string owned;
  std::string_view shared;  // when `owner` is set
  ResourcePtr owner;
  std::string_view bytes() const { return owner ? shared : std::string_view(owned); }
};
inline constexpr std::size_t kShareValuesFrom = 512;
std::vector<WirePiece> EncodePieces(const SotwResponse& response, std::size_t share_from = kShareValuesFrom);
std::vector<WirePiece> EncodePieces(const DeltaResponse& response, std::size_t share_from = kShareValuesFrom);

}  // namespace cmesh::xds
