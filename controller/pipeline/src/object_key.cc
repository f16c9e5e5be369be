#include "cmesh/pipeline/object_key.h"

namespace cmesh::pipeline {

std::string ObjectKey::ToString() const { return kind + "/" + ns + "/" + name; }

namespace {

template <typename T>
void AddAll(const std::vector<T>& objects, const char* kind, std::map<ObjectKey, std::uint64_t>* out) {
  for (const T& object : objects) {
    ObjectKey key{kind, object.meta.ns, object.meta.name};
    auto [it, inserted] = out->emplace(std::move(key), object.origin.content_hash);
    if (!inserted) {
      // A duplicate: mix both hashes (order-dependent on purpose: the loader's order is stable).
      it->second = it->second * 1099511628211ULL ^ object.origin.content_hash;
    }
  }
}

}  // namespace

std::map<ObjectKey, std::uint64_t> ObjectHashes(const model::ConfigSet& config) {
  std::map<ObjectKey, std::uint64_t> out;
  AddAll(config.virtual_services, "VirtualService", &out);
  AddAll(config.destination_rules, "DestinationRule", &out);
  AddAll(config.services, "Service", &out);
  AddAll(config.pods, "Pod", &out);
  AddAll(config.endpoint_slices, "EndpointSlice", &out);
  AddAll(config.endpoints, "Endpoints", &out);
  AddAll(config.namespaces, "Namespace", &out);
  return out;
}

ObjectKeySet DiffObjects(const model::ConfigSet& before, const model::ConfigSet& after) {
  const auto old_hashes = ObjectHashes(before);
  const auto new_hashes = ObjectHashes(after);
  ObjectKeySet changed;
  for (const auto& [key, hash] : new_hashes) {
    auto it = old_hashes.find(key);
    if (it == old_hashes.end() || it->second != hash || hash == 0) changed.insert(key);
  }
  for (const auto& [key, hash] : old_hashes) {
    if (!new_hashes.contains(key)) changed.insert(key);
  }
  return changed;
}

}  // namespace cmesh::pipeline
