// The two sessions are compiled once here rather than in every translation unit using them.
#include "cmesh/xds/stream_session.h"

namespace cmesh::xds {

template class StreamSession<SotwStream, envoy::service::discovery::v3::DiscoveryRequest, SotwResponse>;
template class StreamSession<DeltaStream, envoy::service::discovery::v3::DeltaDiscoveryRequest, DeltaResponse>;

}  // namespace cmesh::xds
