// Compiling Envoy's request/response header additions and removals into HeaderOps.
#pragma once

#include <google/protobuf/repeated_field.h>

#include <string>
#include <vector>

#include "cmesh/router/header_op.h"
#include "envoy/config/core/v3/base.pb.h"

namespace cmesh::router {

// Appends one level's operations to `out` the way Envoy's HeaderParser evaluates them: removals
// first, then additions in order. An addition whose value is empty is dropped unless
// keep_empty_value. Refuses pseudo-headers and Host (Envoy does), invalid names, both `append` and
// `append_action`, and substitution formatters ("%...%"; "%%" is a literal '%').
bool CompileHeaderOps(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove, const std::string& where,
    std::vector<HeaderOp>& out, std::string* error);

}  // namespace cmesh::router
