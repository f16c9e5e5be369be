#include "previous_hosts.h"

#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"

namespace cmesh::compiler {

void PackPreviousHostsPredicate(google::protobuf::Any* out) {
  out->PackFrom(envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate());
}

}  // namespace cmesh::compiler
