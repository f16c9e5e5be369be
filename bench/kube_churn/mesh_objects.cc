#include "mesh_objects.h"

#include <vector>

namespace cmesh::kube_churn {

using nlohmann::json;

namespace kinds {
const kube::ResourceKind kNamespace{"", "v1", "namespaces", "Namespace", false};
const kube::ResourceKind kNode{"", "v1", "nodes", "Node", false};
const kube::ResourceKind kServiceCidr{"networking.k8s.io", "v1", "servicecidrs", "ServiceCIDR", false};
const kube::ResourceKind kService{"", "v1", "services", "Service", true};
const kube::ResourceKind kPod{"", "v1", "pods", "Pod", true};
const kube::ResourceKind kEndpointSlice{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true};
const kube::ResourceKind kDestinationRule{"networking.istio.io", "v1", "destinationrules", "DestinationRule", true};
const kube::ResourceKind kCrd{"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                              false};
}  // namespace kinds

std::string ServiceName(int service) { return "svc-" + std::to_string(service); }

std::string SubsetCluster(int service, const std::string& subset, const std::string& ns) {
  return "outbound|" + std::to_string(kServicePort) + "|" + subset + "|" + ServiceName(service) + "." + ns +
         ".svc.cluster.local";
}

std::string PodIp(std::uint64_t n) {
  const std::uint64_t c = 1 + n % 254;
  const std::uint64_t rest = n / 254;
  return "10." + std::to_string(1 + rest / 256) + "." + std::to_string(rest % 256) + "." + std::to_string(c);
}

json NamespaceObject(const std::string& ns) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
}

json ServiceCidrObject() {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "ServiceCIDR"},
          {"metadata", {{"name", "cmesh-kube-churn"}}},
          {"spec", {{"cidrs", json::array({"10.96.0.0/16"})}}}};
}

std::string NodeName(int service) { return "churn-node-" + std::to_string(service % kNodes); }

json NodeObject(int node) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", NodeName(node)},
            {"labels", {{"topology.kubernetes.io/region", "bench"}, {"topology.kubernetes.io/zone", "bench-a"}}}}}};
}

json ServiceObject(int service, const std::string& ns) {
  const std::string name = ServiceName(service);
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", name}}}}},
          {"spec",
           {{"selector", {{"app", name}}},
            {"ports", json::array({{{"name", "http"}, {"port", kServicePort}, {"targetPort", kServicePort},
                                    {"protocol", "TCP"}}})}}}};
}

json DestinationRuleObject(int service, const std::string& ns) {
  const std::string name = ServiceName(service);
  json subsets = json::array();
  for (const char* version : {"v1", "v2"}) subsets.push_back({{"name", version}, {"labels", {{"version", version}}}});
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "DestinationRule"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"host", name + "." + ns + ".svc.cluster.local"}, {"subsets", std::move(subsets)}}}};
}

json PodObject(const std::string& name, int service, const std::string& version, const std::string& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name}, {"namespace", ns}, {"labels", {{"app", ServiceName(service)}, {"version", version}}}}},
          {"spec",
           {{"nodeName", NodeName(service)},
            {"terminationGracePeriodSeconds", 0},
            {"containers", json::array({{{"name", "app"},
                                         {"image", "cmesh.invalid/churn:1"},
                                         {"ports", json::array({{{"name", "http"},
                                                                 {"containerPort", kServicePort},
                                                                 {"protocol", "TCP"}}})}}})}}}};
}

json WithRunningStatus(json pod, const std::string& ip) {
  const std::string now = "2026-01-01T00:00:00Z";  // the API wants a time; nothing reads it
  json conditions = json::array();
  for (const char* type : {"Initialized", "ContainersReady", "Ready", "PodScheduled"}) {
    conditions.push_back({{"type", type}, {"status", "True"}, {"lastTransitionTime", now}});
  }
  pod["status"] = {{"phase", "Running"},
                   {"hostIP", "10.255.0.1"},
                   {"podIP", ip},
                   {"podIPs", json::array({{{"ip", ip}}})},
                   {"startTime", now},
                   {"conditions", std::move(conditions)}};
  return pod;
}

namespace {

json SliceEndpoints(const std::string& ns, const std::vector<SliceEndpoint>& endpoints) {
  json out = json::array();
  for (const auto& endpoint : endpoints) {
    out.push_back({{"addresses", json::array({endpoint.ip})},
                   {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
                   {"targetRef", {{"kind", "Pod"}, {"name", endpoint.pod}, {"namespace", ns}}}});
  }
  return out;
}

}  // namespace

json EndpointSliceObject(int service, const std::string& ns, const std::vector<SliceEndpoint>& endpoints) {
  const std::string name = ServiceName(service);
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", name + "-churn"},
            {"namespace", ns},
            {"labels",
             {{"kubernetes.io/service-name", name}, {"endpointslice.kubernetes.io/managed-by", "cmesh-kube-churn"}}}}},
          {"addressType", "IPv4"},
          {"ports", json::array({{{"name", "http"}, {"port", kServicePort}, {"protocol", "TCP"}}})},
          {"endpoints", SliceEndpoints(ns, endpoints)}};
}

json EndpointSlicePatch(const std::string& ns, const std::vector<SliceEndpoint>& endpoints) {
  return {{"endpoints", SliceEndpoints(ns, endpoints)}};
}

}  // namespace cmesh::kube_churn
