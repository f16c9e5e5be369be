// The whole input of the compiler: every object of every supported kind, already validated.
#pragma once

#include <vector>

#include "cmesh/model/destination_rule.h"
#include "cmesh/model/kubernetes.h"
#include "cmesh/model/virtual_service.h"

namespace cmesh::model {

struct ConfigSet {
  std::vector<VirtualService> virtual_services;
  std::vector<DestinationRule> destination_rules;
  std::vector<Service> services;
  std::vector<Pod> pods;
  std::vector<EndpointSlice> endpoint_slices;
  std::vector<Endpoints> endpoints;
  std::vector<Namespace> namespaces;

  // Appends every object of `other` (the loader merges files this way).
  void Merge(ConfigSet other);
};

}  // namespace cmesh::model
