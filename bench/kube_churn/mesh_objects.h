// The benchmark's Kubernetes objects as JSON, and the names the control plane gives their xDS
// resources. Service N is svc-N with selector app=svc-N and port http 9080; its DestinationRule
// has subsets v1/v2 by label `version`; its pods carry app/version and a unique 10.x.y.z IP.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube_churn {

inline constexpr int kServicePort = 9080;

namespace kinds {
extern const kube::ResourceKind kNamespace;
extern const kube::ResourceKind kNode;
extern const kube::ResourceKind kServiceCidr;
extern const kube::ResourceKind kService;
extern const kube::ResourceKind kPod;
extern const kube::ResourceKind kEndpointSlice;
extern const kube::ResourceKind kDestinationRule;
extern const kube::ResourceKind kCrd;
}  // namespace kinds

std::string ServiceName(int service);
// The subset cluster Istio names outbound|9080|SUBSET|svc-N.NS.svc.cluster.local.
std::string SubsetCluster(int service, const std::string& subset, const std::string& ns);
// The n-th pod IP ever handed out: 10.A.B.C, never loopback, never .0 or .255 (unique for 16M pods).
std::string PodIp(std::uint64_t n);

nlohmann::json NamespaceObject(const std::string& ns);
// A second Service CIDR (10.96.0.0/16, networking.k8s.io/v1, GA since Kubernetes 1.33): the test
// apiserver's own range is a /24, too small for 1,000 ClusterIP Services. Headless Services would
// need no IPs, but Istio gives them passthrough clusters without EDS, so they measure nothing.
nlohmann::json ServiceCidrObject();
// The nodes pods are "scheduled" to (spec.nodeName): churn-node-0..kNodes-1. istiod looks each
// pod's node up for its locality and logs a warning per pod when it is missing.
inline constexpr int kNodes = 10;
std::string NodeName(int service);
nlohmann::json NodeObject(int node);
nlohmann::json ServiceObject(int service, const std::string& ns);
nlohmann::json DestinationRuleObject(int service, const std::string& ns);
// A pod as a scheduler leaves it: spec.nodeName set, no status yet.
nlohmann::json PodObject(const std::string& name, int service, const std::string& version, const std::string& ns);
// What a kubelet reports once the pod runs: phase Running, the IP, Ready=True. `pod` is the
// object the API returned (it carries the resourceVersion the status update needs).
nlohmann::json WithRunningStatus(nlohmann::json pod, const std::string& ip);

struct SliceEndpoint {
  std::string pod;
  std::string ip;
};
// The EndpointSlice the EndpointSlice controller would keep for service N.
nlohmann::json EndpointSliceObject(int service, const std::string& ns, const std::vector<SliceEndpoint>& endpoints);
// A merge patch replacing the slice's endpoints.
nlohmann::json EndpointSlicePatch(const std::string& ns, const std::vector<SliceEndpoint>& endpoints);

}  // namespace cmesh::kube_churn
