#include "cmesh/model/endpoints.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace cmesh::model {
namespace {

// Keys are built from strings that cannot contain '\n' in valid Kubernetes names and labels.
std::string Key(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a).push_back('\n');
  k.append(b);
  return k;
}

std::string Key(std::string_view a, std::string_view b, std::string_view c) {
  std::string k = Key(a, b);
  k.push_back('\n');
  k.append(c);
  return k;
}

// Pods that can never serve traffic, whatever their endpoints say.
bool PodExcluded(const Pod& pod) {
  return pod.phase == "Pending" || pod.phase == "Failed" || pod.phase == "Succeeded";
}

bool LabelsContain(const Labels& labels, const Labels& selector) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

struct EndpointIndex::Impl {
  const ConfigSet& config;
  std::unordered_map<std::string, std::vector<const EndpointSlice*>> slices;  // ns\nservice
  std::unordered_map<std::string, const Endpoints*> endpoints;                // ns\nname
  std::unordered_map<std::string, const Pod*> pods_by_name;                   // ns\nname
  std::unordered_map<std::string, std::vector<const Pod*>> pods_by_label;     // ns\nkey\nvalue

  explicit Impl(const ConfigSet& c) : config(c) {
    for (const auto& s : c.endpoint_slices) {
      if (!s.service_name.empty()) slices[Key(s.meta.ns, s.service_name)].push_back(&s);
    }
    for (const auto& e : c.endpoints) endpoints.emplace(Key(e.meta.ns, e.meta.name), &e);
    for (const auto& p : c.pods) {
      pods_by_name.emplace(Key(p.meta.ns, p.meta.name), &p);
      for (const auto& [k, v] : p.meta.labels) pods_by_label[Key(p.meta.ns, k, v)].push_back(&p);
    }
  }

  // The pod an address points at, when it is a Pod we know.
  const Pod* TargetPod(const std::optional<ObjectReference>& ref) const {
    if (!ref || (!ref->kind.empty() && ref->kind != "Pod")) return nullptr;
    auto it = pods_by_name.find(Key(ref->ns, ref->name));
    return it == pods_by_name.end() ? nullptr : it->second;
  }

  bool FromSlices(const Service& svc, const ServicePort& port,
                  std::vector<ResolvedEndpoint>& out) const {
    auto it = slices.find(Key(svc.meta.ns, svc.meta.name));
    if (it == slices.end()) return false;
    for (const EndpointSlice* slice : it->second) {
      // The EndpointSlice controller names slice ports after the Service's ports.
      const EndpointSlicePort* sp = nullptr;
      for (const auto& candidate : slice->ports) {
        if (candidate.name == port.name && candidate.port) {
          sp = &candidate;
          break;
        }
      }
      if (sp == nullptr) continue;
      for (const SliceEndpoint& ep : slice->endpoints) {
        const Pod* pod = TargetPod(ep.target_ref);
        if (pod != nullptr && PodExcluded(*pod)) continue;
        // Kubernetes: a nil ready condition means ready; terminating endpoints are not ready.
        bool ready = ep.ready.value_or(true) && !ep.terminating.value_or(false);
        for (const std::string& address : ep.addresses) {
          out.push_back(ResolvedEndpoint{address, *sp->port, pod ? pod->meta.labels : Labels{},
                                         ep.zone, ready});
        }
      }
    }
    return true;
  }

  bool FromEndpoints(const Service& svc, const ServicePort& port,
                     std::vector<ResolvedEndpoint>& out) const {
    auto it = endpoints.find(Key(svc.meta.ns, svc.meta.name));
    if (it == endpoints.end()) return false;
    for (const EndpointSubset& subset : it->second->subsets) {
      const EndpointPort* ep = nullptr;
      for (const auto& candidate : subset.ports) {
        if (candidate.name == port.name) {
          ep = &candidate;
          break;
        }
      }
      if (ep == nullptr) continue;
      auto add = [&](const std::vector<EndpointAddress>& addresses, bool ready) {
        for (const EndpointAddress& a : addresses) {
          const Pod* pod = TargetPod(a.target_ref);
          if (pod != nullptr && PodExcluded(*pod)) continue;
          out.push_back(
              ResolvedEndpoint{a.ip, ep->port, pod ? pod->meta.labels : Labels{}, "", ready});
        }
      };
      add(subset.addresses, true);
      add(subset.not_ready_addresses, false);
    }
    return true;
  }

  // What the EndpointSlice controller would build: Running pods with an IP that match the
  // selector, the target port resolved per pod.
  void FromPods(const Service& svc, const ServicePort& port,
                std::vector<ResolvedEndpoint>& out) const {
    if (svc.selector.empty()) return;
    // Start from the smallest bucket among the selector's labels, then check the rest.
    const std::vector<const Pod*>* candidates = nullptr;
    for (const auto& [k, v] : svc.selector) {
      auto it = pods_by_label.find(Key(svc.meta.ns, k, v));
      if (it == pods_by_label.end()) return;  // no pod carries this label: no match at all
      if (candidates == nullptr || it->second.size() < candidates->size()) {
        candidates = &it->second;
      }
    }
    for (const Pod* pod : *candidates) {
      if (pod->phase != "Running" || pod->pod_ip.empty() || pod->terminating) continue;
      if (!LabelsContain(pod->meta.labels, svc.selector)) continue;
      uint32_t target = port.target_port.number;
      if (port.target_port.IsName()) {
        target = 0;
        for (const ContainerPort& cp : pod->ports) {
          if (cp.name == port.target_port.name && cp.protocol == port.protocol) {
            target = cp.container_port;
            break;
          }
        }
        if (target == 0) continue;  // this pod does not expose the named port
      }
      if (target == 0) target = port.port;
      out.push_back(ResolvedEndpoint{pod->pod_ip, target, pod->meta.labels, "", pod->ready});
    }
  }
};

EndpointIndex::EndpointIndex(const ConfigSet& config) : impl_(std::make_unique<Impl>(config)) {}
EndpointIndex::~EndpointIndex() = default;

std::vector<ResolvedEndpoint> EndpointIndex::Resolve(const Service& service,
                                                     const ServicePort& port) const {
  std::vector<ResolvedEndpoint> out;
  if (service.type == "ExternalName") return out;
  if (!impl_->FromSlices(service, port, out) && !impl_->FromEndpoints(service, port, out)) {
    impl_->FromPods(service, port, out);
  }
  std::sort(out.begin(), out.end(), [](const ResolvedEndpoint& a, const ResolvedEndpoint& b) {
    if (a.address != b.address) return a.address < b.address;
    return a.port < b.port;
  });
  return out;
}

}  // namespace cmesh::model
