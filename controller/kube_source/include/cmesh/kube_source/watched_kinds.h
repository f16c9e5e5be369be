// The Kubernetes resources cmesh-pilot reads, and what it keeps of each.
//
// VirtualService and DestinationRule are read at networking.istio.io/v1, the CRDs' storage version:
// the server converts objects written as v1alpha3 or v1beta1 (the schemas are identical), so every
// served version is seen through one. Each reduction keeps only the fields the model reads, plus
// what the status writer needs for VirtualService and DestinationRule (generation,
// resourceVersion, status); list items lack apiVersion and kind, so the reduction sets them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube_source {

struct WatchedKind {
  kube::ResourceKind resource;
  // The object as the informer caches it.
  nlohmann::json (*reduce)(const nlohmann::json& object);
  // Whether the status writer reports on it.
  bool has_status = false;
};

// VirtualService, DestinationRule, Service, EndpointSlice, Pod, Namespace, in that order.
const std::vector<WatchedKind>& WatchedKinds();

// The part of a reduced object that the model is built from: without resourceVersion,
// generation and status, so that writes to those alone (our own status updates among them) are
// no change to the mesh.
nlohmann::json ModelInput(const nlohmann::json& reduced);

}  // namespace cmesh::kube_source
