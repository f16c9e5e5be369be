// The four xDS resource types cmesh serves, and their type URLs.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace cmesh::xds {

inline constexpr std::string_view kListenerTypeUrl = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRouteTypeUrl =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kClusterTypeUrl = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpointTypeUrl =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

// Declared in make-before-break push order: clusters warm on their endpoints, listeners on their
// routes, and routes must find their clusters already there.
enum class ResourceType { kCluster = 0, kEndpoint = 1, kListener = 2, kRoute = 3 };

inline constexpr std::size_t kResourceTypeCount = 4;
inline constexpr std::array<ResourceType, kResourceTypeCount> kPushOrder = {
    ResourceType::kCluster, ResourceType::kEndpoint, ResourceType::kListener, ResourceType::kRoute};

std::string_view TypeUrl(ResourceType type);
std::optional<ResourceType> TypeFromUrl(std::string_view type_url);
// Short name for logs and debug output: "CDS", "EDS", "LDS", "RDS".
std::string_view ShortName(ResourceType type);
// LDS and CDS responses carry the complete set (absence = deletion) and accept the `*` wildcard;
// RDS and EDS resources are sent one by one and only by name.
bool IsFullStateType(ResourceType type);

inline std::size_t Index(ResourceType type) { return static_cast<std::size_t>(type); }

}  // namespace cmesh::xds
