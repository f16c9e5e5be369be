#include "cmesh/xds_client/xds_type.h"

namespace cmesh::xds_client {

std::string_view TypeUrl(XdsType type) {
  switch (type) {
    case XdsType::kCluster: return kClusterTypeUrl;
    case XdsType::kEndpoint: return kEndpointTypeUrl;
    case XdsType::kListener: return kListenerTypeUrl;
    case XdsType::kRoute: return kRouteTypeUrl;
  }
  return {};
}

std::optional<XdsType> TypeFromUrl(std::string_view type_url) {
  for (XdsType type : kXdsTypes) {
    if (TypeUrl(type) == type_url) return type;
  }
  return std::nullopt;
}

std::string_view ShortName(XdsType type) {
  switch (type) {
    case XdsType::kCluster: return "CDS";
    case XdsType::kEndpoint: return "EDS";
    case XdsType::kListener: return "LDS";
    case XdsType::kRoute: return "RDS";
  }
  return {};
}

std::string_view KindName(XdsType type) {
  switch (type) {
    case XdsType::kCluster: return "Cluster";
    case XdsType::kEndpoint: return "ClusterLoadAssignment";
    case XdsType::kListener: return "Listener";
    case XdsType::kRoute: return "RouteConfiguration";
  }
  return {};
}

}  // namespace cmesh::xds_client
