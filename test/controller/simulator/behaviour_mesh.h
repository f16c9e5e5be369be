// Behaviour tests: "from proxy X, a request to host/path with these headers goes to cluster C".
// A Mesh is a base set of Kubernetes objects plus the scenario's Istio config (inline YAML),
// parsed with the real parser, compiled with the real compiler for one proxy, and decided by the
// route simulator, which sees only the Envoy resources.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/mesh_options.h"
#include "cmesh/model/parser.h"
#include "cmesh/simulator/decision.h"

namespace cmesh::behaviour {

// A sidecar: its namespace, pod, IP and workload labels.
struct Proxy {
  std::string ns;
  std::string pod;
  std::string ip;
  model::Labels labels;
  std::string NodeId() const;
};

// productpage-v1 in "default" (app=productpage, version=v1).
Proxy Productpage();
// A client pod in namespace "other" (app=client).
Proxy OtherClient();
// A client pod in namespace "shop" (app=frontend).
Proxy ShopFrontend();

using Headers = std::vector<std::pair<std::string, std::string>>;

class Mesh {
 public:
  // `config` is added to the base mesh (see behaviour_mesh.cc); it must parse without errors.
  explicit Mesh(const std::string& config, compiler::MeshOptions options = {});

  simulator::Decision Send(const Proxy& proxy, const std::string& url, const Headers& headers = {},
                           const std::string& method = "GET") const;
  const compiler::XdsResources& ResourcesFor(const Proxy& proxy) const;

 private:
  compiler::MeshOptions options_;
  model::ParseResult parsed_;
  std::shared_ptr<const compiler::ConfigIndex> index_;
  mutable std::map<std::string, std::unique_ptr<compiler::XdsResources>> compiled_;
};

// Where the traffic goes, as cluster → percent: {C: 100} for a single cluster.
std::map<std::string, double> Shares(const simulator::Decision& decision);

bool HasCluster(const compiler::XdsResources& resources, const std::string& name);
// The endpoint addresses of the ClusterLoadAssignment named `cluster` (empty when there is none).
std::set<std::string> EndpointAddresses(const compiler::XdsResources& resources, const std::string& cluster);

// Istio's cluster name for a service in the base mesh.
std::string Cluster(uint32_t port, const std::string& subset, const std::string& service_ns);

}  // namespace cmesh::behaviour
