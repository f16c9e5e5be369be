// Turning responses into what goes on the wire. Encode* writes the DiscoveryResponse bytes by
// copying each resource's already-serialised Any: no resource is marshalled again per stream.
// ToProto* builds the message for transports that want a typed protobuf.
#pragma once

#include <string>

#include "cmesh/xds/response.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds {

envoy::service::discovery::v3::DiscoveryResponse ToProto(const SotwResponse& response);
envoy::service::discovery::v3::DeltaDiscoveryResponse ToProto(const DeltaResponse& response);

// Serialised envoy.service.discovery.v3.DiscoveryResponse / DeltaDiscoveryResponse.
std::string Encode(const SotwResponse& response);
std::string Encode(const DeltaResponse& response);

}  // namespace cmesh::xds
