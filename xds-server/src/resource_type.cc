#include "cmesh/xds/resource_type.h"

namespace cmesh::xds {

std::string_view TypeUrl(ResourceType type) {
  switch (type) {
    case ResourceType::kCluster: return kClusterTypeUrl;
    case ResourceType::kEndpoint: return kEndpointTypeUrl;
    case ResourceType::kListener: return kListenerTypeUrl;
    case ResourceType::kRoute: return kRouteTypeUrl;
  }
  return {};
}

std::optional<ResourceType> TypeFromUrl(std::string_view type_url) {
  for (ResourceType type : kPushOrder) {
    if (TypeUrl(type) == type_url) return type;
  }
  return std::nullopt;
}

std::string_view ShortName(ResourceType type) {
  switch (type) {
    case ResourceType::kCluster: return "CDS";
    case ResourceType::kEndpoint: return "EDS";
    case ResourceType::kListener: return "LDS";
    case ResourceType::kRoute: return "RDS";
  }
  return {};
}

bool IsFullStateType(ResourceType type) {
  return type == ResourceType::kListener || type == ResourceType::kCluster;
}

}  // namespace cmesh::xds
