// Istio's validation semantics for VirtualService and DestinationRule, on decoded objects.
#pragma once

#include <vector>

#include "cmesh/model/destination_rule.h"
#include "cmesh/model/diagnostic.h"
#include "cmesh/model/virtual_service.h"

namespace cmesh::model {

std::vector<Diagnostic> Validate(const VirtualService& vs);
std::vector<Diagnostic> Validate(const DestinationRule& dr);

}  // namespace cmesh::model
