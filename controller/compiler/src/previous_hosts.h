// The typed config of Envoy's previous_hosts retry host predicate (an empty message).
#pragma once

#include <google/protobuf/any.pb.h>

namespace cmesh::compiler {

// type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate
void PackPreviousHostsPredicate(google::protobuf::Any* out);

}  // namespace cmesh::compiler
