#include "behaviour_mesh.h"

#include <gtest/gtest.h>

#include "cmesh/simulator/simulator.h"

namespace cmesh::behaviour {
namespace {

// The base mesh every scenario starts from (the scenario adds VirtualServices, DestinationRules,
// and sometimes Services):
//   default: reviews (9080 http; pods v1, v2, v3, a Pending v3 and a Failed v2), ratings (9080),
//            productpage (9080) with its pod; DestinationRule reviews with subsets v1, v2, v3.
//   shop:    catalog with two HTTP ports, 80 "http" and 8080 "http-admin" (pods v1, v2), a
//            DestinationRule with subsets v1, v2, and the frontend pod.
//   other:   a client pod.
constexpr char kBase[] = R"(
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default, labels: {app: reviews}}
spec:
  clusterIP: 10.96.0.10
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec:
  clusterIP: 10.96.0.11
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec:
  clusterIP: 10.96.0.12
  selector: {app: productpage}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  clusterIP: 10.96.1.10
  selector: {app: catalog}
  ports:
  - {name: http, port: 80, targetPort: 8000}
  - {name: http-admin, port: 8080, targetPort: 8001}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: catalog, namespace: shop}
spec:
  host: catalog
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
)";

std::string PodYaml(const std::string& name, const std::string& ns, const std::string& app, const std::string& version,
                    const std::string& ip, const std::string& phase, uint32_t port) {
  std::string y = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns +
                  ", labels: {app: " + app + ", version: " + version + "}}\n" +
                  "spec: {containers: [{name: " + app + ", image: x, ports: [{containerPort: " +
                  std::to_string(port) + "}]}]}\nstatus: {phase: " + phase;
  if (!ip.empty()) y += ", podIP: " + ip;
  y += std::string(", conditions: [{type: Ready, status: \"") + (phase == "Running" ? "True" : "False") + "\"}]}\n";
  return y;
}

std::string BasePods() {
  std::string y;
  y += PodYaml("reviews-v1", "default", "reviews", "v1", "10.10.0.1", "Running", 9080);
  y += PodYaml("reviews-v2", "default", "reviews", "v2", "10.10.0.2", "Running", 9080);
  y += PodYaml("reviews-v3", "default", "reviews", "v3", "10.10.0.3", "Running", 9080);
  y += PodYaml("reviews-v3-pending", "default", "reviews", "v3", "", "Pending", 9080);
  y += PodYaml("reviews-v2-failed", "default", "reviews", "v2", "10.10.0.9", "Failed", 9080);
  y += PodYaml("ratings-v1", "default", "ratings", "v1", "10.10.0.4", "Running", 9080);
  y += PodYaml("productpage-v1", "default", "productpage", "v1", "10.10.0.5", "Running", 9080);
  // catalog's containers listen on 8000 (public) and 8001 (admin).
  for (const auto& [name, version, ip] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"catalog-v1", "v1", "10.20.0.1"}, {"catalog-v2", "v2", "10.20.0.2"}}) {
    y += "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name +
         ", namespace: shop, labels: {app: catalog, version: " + version + "}}\n" +
         "spec: {containers: [{name: catalog, image: x, ports: [{containerPort: 8000}, {containerPort: 8001}]}]}\n" +
         "status: {phase: Running, podIP: " + ip + ", conditions: [{type: Ready, status: \"True\"}]}\n";
  }
  y += PodYaml("frontend-0", "shop", "frontend", "v1", "10.20.0.9", "Running", 8080);
  y += PodYaml("client-0", "other", "client", "v1", "10.30.0.1", "Running", 8080);
  return y;
}

}  // namespace

std::string Proxy::NodeId() const { return "sidecar~" + ip + "~" + pod + "." + ns + "~" + ns + ".svc.cluster.local"; }

Proxy Productpage() { return {"default", "productpage-v1", "10.10.0.5", {{"app", "productpage"}, {"version", "v1"}}}; }
Proxy OtherClient() { return {"other", "client-0", "10.30.0.1", {{"app", "client"}, {"version", "v1"}}}; }
Proxy ShopFrontend() { return {"shop", "frontend-0", "10.20.0.9", {{"app", "frontend"}, {"version", "v1"}}}; }

Mesh::Mesh(const std::string& config, compiler::MeshOptions options) : options_(std::move(options)) {
  parsed_ = model::ParseDocuments(std::string(kBase) + BasePods() + "---\n" + config, "<scenario>");
  for (const auto& d : parsed_.diagnostics) {
    EXPECT_NE(d.severity, model::Severity::kError) << d.ToString();
  }
  index_ = compiler::BuildIndex(std::make_shared<const model::ConfigSet>(parsed_.config), options_);
}

const compiler::XdsResources& Mesh::ResourcesFor(const Proxy& proxy) const {
  auto& slot = compiled_[proxy.NodeId()];
  if (!slot) {
    std::string error;
    auto node = compiler::ParseNodeId(proxy.NodeId(), &error);
    EXPECT_TRUE(node.has_value()) << error;
    compiler::ProxyNode p = node.value_or(compiler::ProxyNode{});
    p.labels = proxy.labels;
    slot = std::make_unique<compiler::XdsResources>(compiler::Compile(*index_, p, options_));
  }
  return *slot;
}

simulator::Decision Mesh::Send(const Proxy& proxy, const std::string& url, const Headers& headers,
                               const std::string& method) const {
  const auto& resources = ResourcesFor(proxy);
  std::vector<envoy::config::listener::v3::Listener> listeners;
  for (const auto& l : resources.listeners) listeners.push_back(l.resource);
  std::vector<envoy::config::route::v3::RouteConfiguration> routes;
  for (const auto& r : resources.routes) routes.push_back(r.resource);
  std::string error;
  auto request = simulator::ParseUrl(url, &error);
  EXPECT_TRUE(request.has_value()) << error;
  simulator::Request r = request.value_or(simulator::Request{});
  r.method = method;
  r.headers = headers;
  // Cluster DNS: the proxy reaches a Service by its cluster IP.
  for (const auto& s : parsed_.config.services) {
    const std::string name_ns = s.meta.name + "." + s.meta.ns;
    if (r.host == name_ns || r.host == name_ns + ".svc" || r.host == name_ns + ".svc.cluster.local" ||
        (r.host == s.meta.name && s.meta.ns == proxy.ns)) {
      r.destination_ip = s.cluster_ip;
    }
  }
  std::set<std::string> clusters;
  for (const auto& c : resources.clusters) clusters.insert(c.resource.name());
  return simulator::Simulator(std::move(listeners), std::move(routes), std::move(clusters)).Simulate(r);
}

std::map<std::string, double> Shares(const simulator::Decision& d) {
  std::map<std::string, double> out;
  if (d.outcome == simulator::Decision::Outcome::kCluster || d.outcome == simulator::Decision::Outcome::kTcpProxy) {
    out[d.cluster] = 100;
  }
  for (const auto& w : d.weighted_clusters) out[w.cluster] += w.percent;
  return out;
}

bool HasCluster(const compiler::XdsResources& resources, const std::string& name) {
  for (const auto& c : resources.clusters) {
    if (c.resource.name() == name) return true;
  }
  return false;
}

std::set<std::string> EndpointAddresses(const compiler::XdsResources& resources, const std::string& cluster) {
  std::set<std::string> out;
  for (const auto& cla : resources.endpoints) {
    if (cla.resource.cluster_name() != cluster) continue;
    for (const auto& locality : cla.resource.endpoints()) {
      for (const auto& lb : locality.lb_endpoints()) out.insert(lb.endpoint().address().socket_address().address());
    }
  }
  return out;
}

std::string Cluster(uint32_t port, const std::string& subset, const std::string& service_ns) {
  return "outbound|" + std::to_string(port) + "|" + subset + "|" + service_ns + ".svc.cluster.local";
}

}  // namespace cmesh::behaviour
