// The four xDS resource types the proxy subscribes to, in make-before-break order. The proxy
// shares nothing with the control plane but the generated API, so these are its own.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace cmesh::xds_client {

enum class XdsType { kCluster = 0, kEndpoint = 1, kListener = 2, kRoute = 3 };

inline constexpr std::size_t kXdsTypeCount = 4;
// Clusters warm on their endpoints, listeners on their routes: the order Envoy subscribes in.
inline constexpr std::array<XdsType, kXdsTypeCount> kXdsTypes = {XdsType::kCluster, XdsType::kEndpoint,
                                                                  XdsType::kListener, XdsType::kRoute};

inline constexpr std::string_view kClusterTypeUrl = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpointTypeUrl =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kListenerTypeUrl = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRouteTypeUrl = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kHttpConnectionManagerTypeUrl =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

std::string_view TypeUrl(XdsType type);
std::optional<XdsType> TypeFromUrl(std::string_view type_url);
// "CDS", "EDS", "LDS", "RDS": for logs, the admin page and metric labels.
std::string_view ShortName(XdsType type);
// "Cluster", "ClusterLoadAssignment", "Listener", "RouteConfiguration": for NACK messages.
std::string_view KindName(XdsType type);
// LDS and CDS responses carry the whole set (a missing resource is deleted) and are subscribed
// to by wildcard; EDS and RDS are subscribed to by name and arrive one by one.
inline bool IsWildcardType(XdsType type) { return type == XdsType::kCluster || type == XdsType::kListener; }
inline std::size_t Index(XdsType type) { return static_cast<std::size_t>(type); }

}  // namespace cmesh::xds_client
