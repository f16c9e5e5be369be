#include "cmesh/xds_client/xds_state.h"

#include <set>

#include "cmesh/xds_client/references.h"

namespace cmesh::xds_client {
namespace {

std::shared_ptr<ResourceRecord> NewRecord(std::string bytes) {
  auto record = std::make_shared<ResourceRecord>();
  record->hash = HashBytes(bytes);
  record->bytes = std::move(bytes);
  return record;
}

void SetReferences(ResourceRecord& record, const envoy::config::cluster::v3::Cluster& message) {
  record.references.clear();
  record.references_itself = false;
  if (auto service = xds_client::EdsServiceName(message)) {
    if (*service == message.name()) {
      record.references_itself = true;
    } else {
      record.references.push_back(std::move(*service));
    }
  }
}

void SetReferences(ResourceRecord& record, const envoy::config::listener::v3::Listener& message) {
  std::set<std::string, std::less<>> names;
  AddRdsNames(message, names);
  record.references.assign(names.begin(), names.end());
  record.references_itself = false;
}

}  // namespace

std::uint64_t HashBytes(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::cluster::v3::Cluster& message, std::string bytes) {
  auto record = NewRecord(std::move(bytes));
  SetReferences(*record, message);
  return record;
}

std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::endpoint::v3::ClusterLoadAssignment&,
                                                 std::string bytes) {
  return NewRecord(std::move(bytes));
}

std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::listener::v3::Listener& message,
                                                 std::string bytes) {
  auto record = NewRecord(std::move(bytes));
  SetReferences(*record, message);
  return record;
}

std::shared_ptr<const ResourceRecord> MakeRecord(const envoy::config::route::v3::RouteConfiguration&,
                                                 std::string bytes) {
  return NewRecord(std::move(bytes));
}

std::string_view XdsState::EdsServiceName(std::string_view cluster_name,
                                          const Resource<envoy::config::cluster::v3::Cluster>& cluster) {
  const ResourceRecord* record = cluster.record();
  if (record == nullptr) return {};
  if (record->references_itself) return cluster_name;
  return record->references.empty() ? std::string_view() : std::string_view(record->references.front());
}

}  // namespace cmesh::xds_client
