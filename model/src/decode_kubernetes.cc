// Decoding of the Kubernetes objects the mesh reads. Lenient: only the fields we keep are read
// (and type-checked); everything else of these large APIs is ignored.
#include <algorithm>
#include <cctype>

#include "decoders.h"

namespace cmesh::model::internal {
namespace {

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

void DecodeObjectReference(DecodeContext& ctx, const Json& j, const std::string& path,
                           const std::string& default_ns, std::optional<ObjectReference>& out) {
  ObjectReader r(ctx, j, path, false);
  ObjectReference ref;
  r.String("kind", ref.kind);
  r.String("name", ref.name);
  r.String("namespace", ref.ns);
  if (ref.ns.empty()) ref.ns = default_ns;
  out = ref;
}

}  // namespace

void DecodeMeta(DecodeContext& ctx, const Json& doc, ObjectMeta& meta) {
  const auto it = doc.find("metadata");
  if (it == doc.end() || it->is_null()) {
    meta.ns = "default";
    return;
  }
  ObjectReader r(ctx, *it, "metadata", false);
  r.String("name", meta.name);
  r.String("namespace", meta.ns);
  if (meta.ns.empty()) meta.ns = "default";
  r.StringMap("labels", meta.labels);
  r.StringMap("annotations", meta.annotations);
  r.String("resourceVersion", meta.resource_version);
}

void DecodeService(DecodeContext& ctx, const Json& doc, Service& svc) {
  if (auto it = svc.meta.annotations.find("networking.istio.io/exportTo");
      it != svc.meta.annotations.end()) {
    std::string value = it->second;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string item = Trim(value.substr(start, comma - start));
      if (!item.empty()) svc.export_to.push_back(item);
      start = comma + 1;
    }
  }
  const auto it = doc.find("spec");
  if (it == doc.end() || it->is_null()) return;
  ObjectReader r(ctx, *it, "spec", false);
  r.String("type", svc.type);
  r.String("clusterIP", svc.cluster_ip);
  r.String("externalName", svc.external_name);
  r.StringMap("selector", svc.selector);
  ForEachItem(r, "ports", [&](const Json& item, const std::string& path) {
    ObjectReader p(ctx, item, path, false);
    ServicePort& port = svc.ports.emplace_back();
    p.String("name", port.name);
    p.String("protocol", port.protocol);
    p.UInt32("port", port.port);
    p.String("appProtocol", port.app_protocol);
    if (const Json* t = p.Get("targetPort")) {
      if (t->is_string()) {
        // IntOrString: a numeric string is a number ("8080"), anything else a port name.
        std::string s = t->get<std::string>();
        if (!s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) && s.size() < 10) {
          port.target_port.number = static_cast<uint32_t>(std::stoul(s));
        } else {
          port.target_port.name = s;
        }
      } else {
        ReadUInt32(ctx, *t, p.Path("targetPort"), port.target_port.number);
      }
    }
    if (port.target_port.name.empty() && port.target_port.number == 0) {
      port.target_port.number = port.port;
    }
  });
}

void DecodePod(DecodeContext& ctx, const Json& doc, Pod& pod) {
  if (auto md = doc.find("metadata"); md != doc.end() && md->is_object()) {
    auto del = md->find("deletionTimestamp");
    pod.terminating = del != md->end() && !del->is_null();
  }
  if (auto it = doc.find("spec"); it != doc.end() && !it->is_null()) {
    ObjectReader r(ctx, *it, "spec", false);
    r.String("nodeName", pod.node_name);
    r.Bool("hostNetwork", pod.host_network);
    ForEachItem(r, "containers", [&](const Json& item, const std::string& path) {
      ObjectReader c(ctx, item, path, false);
      ForEachItem(c, "ports", [&](const Json& pitem, const std::string& ppath) {
        ObjectReader p(ctx, pitem, ppath, false);
        ContainerPort& port = pod.ports.emplace_back();
        p.String("name", port.name);
        p.UInt32("containerPort", port.container_port);
        p.String("protocol", port.protocol);
      });
    });
  }
  if (auto it = doc.find("status"); it != doc.end() && !it->is_null()) {
    ObjectReader r(ctx, *it, "status", false);
    r.String("phase", pod.phase);
    r.String("podIP", pod.pod_ip);
    ForEachItem(r, "conditions", [&](const Json& item, const std::string& path) {
      ObjectReader c(ctx, item, path, false);
      std::string type, status;
      c.String("type", type);
      c.String("status", status);
      if (type == "Ready") pod.ready = status == "True";
    });
  }
}

void DecodeEndpointSlice(DecodeContext& ctx, const Json& doc, EndpointSlice& slice) {
  if (auto it = slice.meta.labels.find("kubernetes.io/service-name");
      it != slice.meta.labels.end()) {
    slice.service_name = it->second;
  }
  ObjectReader r(ctx, doc, "", false);
  r.String("addressType", slice.address_type);
  ForEachItem(r, "ports", [&](const Json& item, const std::string& path) {
    ObjectReader p(ctx, item, path, false);
    EndpointSlicePort& port = slice.ports.emplace_back();
    p.String("name", port.name);
    p.UInt32("port", port.port);
    p.String("protocol", port.protocol);
    p.String("appProtocol", port.app_protocol);
  });
  ForEachItem(r, "endpoints", [&](const Json& item, const std::string& path) {
    ObjectReader e(ctx, item, path, false);
    SliceEndpoint& ep = slice.endpoints.emplace_back();
    e.Strings("addresses", ep.addresses);
    if (const Json* c = e.Get("conditions")) {
      ObjectReader cond(ctx, *c, e.Path("conditions"), false);
      cond.Bool("ready", ep.ready);
      cond.Bool("serving", ep.serving);
      cond.Bool("terminating", ep.terminating);
    }
    if (const Json* t = e.Get("targetRef")) {
      DecodeObjectReference(ctx, *t, e.Path("targetRef"), slice.meta.ns, ep.target_ref);
    }
    e.String("nodeName", ep.node_name);
    e.String("zone", ep.zone);
  });
}

void DecodeEndpoints(DecodeContext& ctx, const Json& doc, Endpoints& eps) {
  ObjectReader r(ctx, doc, "", false);
  ForEachItem(r, "subsets", [&](const Json& item, const std::string& path) {
    ObjectReader s(ctx, item, path, false);
    EndpointSubset& subset = eps.subsets.emplace_back();
    auto addresses = [&](std::string_view key, std::vector<EndpointAddress>& out) {
      ForEachItem(s, key, [&](const Json& a, const std::string& apath) {
        ObjectReader ar(ctx, a, apath, false);
        EndpointAddress& addr = out.emplace_back();
        ar.String("ip", addr.ip);
        ar.String("nodeName", addr.node_name);
        if (const Json* t = ar.Get("targetRef")) {
          DecodeObjectReference(ctx, *t, ar.Path("targetRef"), eps.meta.ns, addr.target_ref);
        }
      });
    };
    addresses("addresses", subset.addresses);
    addresses("notReadyAddresses", subset.not_ready_addresses);
    ForEachItem(s, "ports", [&](const Json& p, const std::string& ppath) {
      ObjectReader pr(ctx, p, ppath, false);
      EndpointPort& port = subset.ports.emplace_back();
      pr.String("name", port.name);
      pr.UInt32("port", port.port);
      pr.String("protocol", port.protocol);
      pr.String("appProtocol", port.app_protocol);
    });
  });
}

}  // namespace cmesh::model::internal
