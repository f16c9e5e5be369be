#include "synthetic_mesh.h"

namespace cmesh::bench {

namespace {

std::string NsName(size_t i) { return "ns-" + std::to_string(i); }
std::string SvcName(size_t i) { return "svc-" + std::to_string(i); }

// Distinct, deterministic addresses: 10.<hi>.<lo>.<n>.
std::string Ip(size_t n) {
  return "10." + std::to_string((n >> 16) & 0xff) + "." + std::to_string((n >> 8) & 0xff) + "." +
         std::to_string(n & 0xff);
}

}  // namespace

std::string SyntheticProxyId(size_t ns_index) {
  const std::string ns = NsName(ns_index);
  return "sidecar~" + Ip(1) + "~client-0." + ns + "~" + ns + ".svc.cluster.local";
}

model::ConfigSet MakeSyntheticMesh(const MeshShape& shape) {
  model::ConfigSet config;
  size_t pod_seq = 0x10000;
  for (size_t n = 0; n < shape.namespaces; ++n) {
    model::Namespace ns;
    ns.meta.name = NsName(n);
    config.namespaces.push_back(ns);
  }
  for (size_t i = 0; i < shape.services; ++i) {
    const std::string ns = NsName(i % shape.namespaces);
    const std::string name = SvcName(i);

    model::Service svc;
    svc.meta.name = name;
    svc.meta.ns = ns;
    svc.cluster_ip = "172.20." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    svc.selector = {{"app", name}};
    model::ServicePort port;
    port.name = "http";
    port.port = 9080;
    port.target_port.number = 8080;
    svc.ports.push_back(port);
    svc.origin.content_hash = std::hash<std::string>{}("svc/" + ns + "/" + name);
    config.services.push_back(std::move(svc));

    for (size_t p = 0; p < shape.pods_per_service; ++p) {
      model::Pod pod;
      pod.meta.name = name + "-" + std::to_string(p);
      pod.meta.ns = ns;
      pod.meta.labels = {{"app", name}, {"version", "v" + std::to_string(p % shape.subsets + 1)}};
      pod.phase = "Running";
      pod.ready = true;
      pod.pod_ip = Ip(pod_seq++);
      pod.ports.push_back({"http", 8080, "TCP"});
      pod.origin.content_hash = std::hash<std::string>{}("pod/" + ns + "/" + pod.meta.name);
      config.pods.push_back(std::move(pod));
    }

    model::DestinationRule dr;
    dr.api_version = "networking.istio.io/v1";
    dr.meta.name = name;
    dr.meta.ns = ns;
    dr.host = name;
    model::TrafficPolicy policy;
    policy.load_balancer = model::LoadBalancerSettings{};
    policy.load_balancer->simple = model::LoadBalancerSettings::Simple::kLeastRequest;
    dr.traffic_policy = policy;
    for (size_t s = 0; s < shape.subsets; ++s) {
      const std::string v = "v" + std::to_string(s + 1);
      dr.subsets.push_back({v, {{"version", v}}, std::nullopt});
    }
    dr.origin.content_hash = std::hash<std::string>{}("dr/" + ns + "/" + name);
    config.destination_rules.push_back(std::move(dr));

    model::VirtualService vs;
    vs.api_version = "networking.istio.io/v1";
    vs.meta.name = name;
    vs.meta.ns = ns;
    vs.hosts = {name};
    model::HTTPRoute canary;
    model::HTTPMatchRequest match;
    match.headers["end-user"] = {model::StringMatch::Kind::kExact, "tester"};
    canary.match.push_back(match);
    canary.route.push_back({{name, "v" + std::to_string(shape.subsets), std::nullopt}, std::nullopt, {}});
    vs.http.push_back(canary);
    model::HTTPRoute split;
    split.timeout = model::Duration{2'000'000'000};
    split.route.push_back({{name, "v1", std::nullopt}, 80, {}});
    split.route.push_back({{name, "v2", std::nullopt}, 20, {}});
    vs.http.push_back(split);
    vs.origin.content_hash = std::hash<std::string>{}("vs/" + ns + "/" + name);
    config.virtual_services.push_back(std::move(vs));
  }
  return config;
}

}  // namespace cmesh::bench
