// The Kubernetes objects the mesh reads: Service, Pod, EndpointSlice, Endpoints, Namespace.
// Only the fields the mesh uses are kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/model/common.h"

namespace cmesh::model {

struct ServicePort {
  std::string name;
  std::string protocol = "TCP";  // TCP, UDP, SCTP
  uint32_t port = 0;
  PortRef target_port;  // defaults to `port` when absent
  std::string app_protocol;
};

struct Service {
  ObjectMeta meta;
  Origin origin;
  std::string type = "ClusterIP";
  std::string cluster_ip;  // "" or "None" for headless
  std::vector<ServicePort> ports;
  Labels selector;
  std::string external_name;
  // From the annotation networking.istio.io/exportTo (comma separated); empty means public.
  std::vector<std::string> export_to;
};

struct ContainerPort {
  std::string name;
  uint32_t container_port = 0;
  std::string protocol = "TCP";
};

struct Pod {
  ObjectMeta meta;
  Origin origin;
  std::string node_name;
  std::vector<ContainerPort> ports;  // of every container, in order
  bool host_network = false;
  std::string phase;  // status.phase: Pending, Running, Succeeded, Failed, Unknown
  std::string pod_ip;  // status.podIP
  bool ready = false;  // status.conditions[type=Ready].status == "True"
  bool terminating = false;  // metadata.deletionTimestamp is set
};

struct EndpointSlicePort {
  std::string name;
  std::optional<uint32_t> port;
  std::string protocol = "TCP";
  std::string app_protocol;
};

struct ObjectReference {
  std::string kind;
  std::string name;
  std::string ns;
};

struct SliceEndpoint {
  std::vector<std::string> addresses;
  std::optional<bool> ready;
  std::optional<bool> serving;
  std::optional<bool> terminating;
  std::optional<ObjectReference> target_ref;
  std::string node_name;
  std::string zone;
};

struct EndpointSlice {
  ObjectMeta meta;
  Origin origin;
  std::string service_name;  // label kubernetes.io/service-name
  std::string address_type = "IPv4";
  std::vector<EndpointSlicePort> ports;
  std::vector<SliceEndpoint> endpoints;
};

struct EndpointAddress {
  std::string ip;
  std::string node_name;
  std::optional<ObjectReference> target_ref;
};

struct EndpointPort {
  std::string name;
  uint32_t port = 0;
  std::string protocol = "TCP";
  std::string app_protocol;
};

struct EndpointSubset {
  std::vector<EndpointAddress> addresses;
  std::vector<EndpointAddress> not_ready_addresses;
  std::vector<EndpointPort> ports;
};

struct Endpoints {  // core/v1 Endpoints, named after its Service
  ObjectMeta meta;
  Origin origin;
  std::vector<EndpointSubset> subsets;
};

struct Namespace {
  ObjectMeta meta;
  Origin origin;
};

}  // namespace cmesh::model
