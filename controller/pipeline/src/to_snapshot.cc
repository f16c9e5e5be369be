#include "cmesh/pipeline/to_snapshot.h"

#include <utility>

namespace cmesh::pipeline {

namespace {

template <typename T>
void AddAll(const std::vector<compiler::Versioned<T>>& items, xds::ResourceInterner& interner,
            xds::SnapshotBuilder* builder) {
  for (const auto& item : items) builder->Add(interner.Get(item.resource, item.version));
}

}  // namespace

SnapshotResult ToSnapshot(const compiler::XdsResources& resources, xds::ResourceInterner& interner) {
  SnapshotResult result;
  xds::SnapshotBuilder builder;
  AddAll(resources.listeners, interner, &builder);
  AddAll(resources.routes, interner, &builder);
  AddAll(resources.clusters, interner, &builder);
  AddAll(resources.endpoints, interner, &builder);
  builder.SetVersion(xds::ResourceType::kListener, resources.ListenersVersion());
  builder.SetVersion(xds::ResourceType::kRoute, resources.RoutesVersion());
  builder.SetVersion(xds::ResourceType::kCluster, resources.ClustersVersion());
  builder.SetVersion(xds::ResourceType::kEndpoint, resources.EndpointsVersion());
  result.errors = builder.errors();
  xds::SnapshotPtr snapshot = std::move(builder).Build();
  for (const std::string& error : snapshot->CheckConsistency()) result.errors.push_back(error);
  if (result.errors.empty()) result.snapshot = std::move(snapshot);
  return result;
}

}  // namespace cmesh::pipeline
