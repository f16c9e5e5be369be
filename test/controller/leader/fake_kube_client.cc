#include "fake_kube_client.h"

#include <utility>

namespace cmesh::testing {
namespace {

kube::KubeError Error(int status, const std::string& reason, const std::string& message) {
  return kube::KubeError{status, reason, message};
}

std::string MetadataString(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const auto& metadata = object["metadata"];
  return metadata.is_object() && metadata.contains(key) && metadata[key].is_string() ? metadata[key].get<std::string>()
                                                                                    : "";
}

}  // namespace

void FakeKubeClient::SetHook(Hook hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  hook_ = std::move(hook);
}

FakeKubeClient::Key FakeKubeClient::KeyOf(const kube::ResourceKind& kind, const std::string& ns,
                                          const nlohmann::json& object) {
  return {kind.plural, ns, MetadataString(object, "name")};
}

nlohmann::json FakeKubeClient::Put(const kube::ResourceKind& kind, nlohmann::json object) {
  std::lock_guard<std::mutex> lock(mutex_);
  object["metadata"]["resourceVersion"] = std::to_string(++next_version_);
  objects_[KeyOf(kind, MetadataString(object, "namespace"), object)] = object;
  return object;
}

std::optional<nlohmann::json> FakeKubeClient::Peek(const kube::ResourceKind& kind, const std::string& ns,
                                                   const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find({kind.plural, ns, name});
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

int FakeKubeClient::Calls(const std::string& verb) {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_[verb];
}

std::optional<kube::KubeError> FakeKubeClient::RunHook(const std::string& verb, const kube::ResourceKind& kind,
                                                       const nlohmann::json& object) {
  Hook hook;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_[verb]++;
    hook = hook_;
  }
  if (!hook) return std::nullopt;
  return hook(verb, kind, object);
}

kube::KubeResult<kube::ObjectList> FakeKubeClient::List(const kube::ResourceKind& kind, const kube::ListOptions&) {
  return {std::nullopt, Error(0, "", "FakeKubeClient: List is not implemented")};
}

kube::KubeError FakeKubeClient::Watch(const kube::ResourceKind&, const kube::WatchOptions&,
                                      const std::function<bool(const kube::WatchEvent&)>&, kube::Cancellation&) {
  return Error(0, "", "FakeKubeClient: Watch is not implemented");
}

kube::KubeResult<nlohmann::json> FakeKubeClient::Patch(const kube::ResourceKind&, const std::string&,
                                                       const std::string&, kube::PatchType, const nlohmann::json&) {
  return {std::nullopt, Error(0, "", "FakeKubeClient: Patch is not implemented")};
}

kube::KubeResult<nlohmann::json> FakeKubeClient::Get(const kube::ResourceKind& kind, const std::string& ns,
                                                     const std::string& name) {
  if (auto error = RunHook("get", kind, nullptr)) return {std::nullopt, *error};
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find({kind.plural, ns, name});
  if (it == objects_.end()) return {std::nullopt, Error(404, "NotFound", kind.plural + " \"" + name + "\" not found")};
  return {it->second, {}};
}

kube::KubeResult<nlohmann::json> FakeKubeClient::Create(const kube::ResourceKind& kind, const std::string& ns,
                                                        const nlohmann::json& object) {
  if (auto error = RunHook("create", kind, object)) return {std::nullopt, *error};
  std::lock_guard<std::mutex> lock(mutex_);
  Key key = KeyOf(kind, ns, object);
  if (objects_.count(key)) {
    return {std::nullopt, Error(409, "AlreadyExists", kind.plural + " \"" + std::get<2>(key) + "\" already exists")};
  }
  nlohmann::json stored = object;
  stored["metadata"]["namespace"] = ns;
  stored["metadata"]["resourceVersion"] = std::to_string(++next_version_);
  objects_[key] = stored;
  return {stored, {}};
}

kube::KubeResult<nlohmann::json> FakeKubeClient::Replace(const std::string& verb, const kube::ResourceKind& kind,
                                                         const std::string& ns, const nlohmann::json& object,
                                                         bool status_only) {
  if (auto error = RunHook(verb, kind, object)) return {std::nullopt, *error};
  std::lock_guard<std::mutex> lock(mutex_);
  Key key = KeyOf(kind, ns, object);
  auto it = objects_.find(key);
  if (it == objects_.end()) return {std::nullopt, Error(404, "NotFound", kind.plural + " not found")};
  const std::string wanted = MetadataString(object, "resourceVersion");
  if (!wanted.empty() && wanted != MetadataString(it->second, "resourceVersion")) {
    return {std::nullopt, Error(409, "Conflict", "the object has been modified; please apply your changes to the "
                                                 "latest version and try again")};
  }
  nlohmann::json stored = it->second;
  if (status_only) {
    // Like the status subresource: only .status changes.
    if (object.contains("status")) {
      stored["status"] = object["status"];
    } else {
      stored.erase("status");
    }
  } else {
    // Like the main resource of a kind with a status subresource: .status is not written here.
    nlohmann::json status = stored.contains("status") ? stored["status"] : nlohmann::json();
    stored = object;
    stored["metadata"]["namespace"] = ns;
    if (status.is_null()) {
      stored.erase("status");
    } else {
      stored["status"] = status;
    }
  }
  stored["metadata"]["resourceVersion"] = std::to_string(++next_version_);
  it->second = stored;
  return {stored, {}};
}

kube::KubeResult<nlohmann::json> FakeKubeClient::Update(const kube::ResourceKind& kind, const std::string& ns,
                                                        const nlohmann::json& object) {
  return Replace("update", kind, ns, object, false);
}

kube::KubeResult<nlohmann::json> FakeKubeClient::UpdateStatus(const kube::ResourceKind& kind, const std::string& ns,
                                                              const nlohmann::json& object) {
  return Replace("updatestatus", kind, ns, object, true);
}

kube::KubeError FakeKubeClient::Delete(const kube::ResourceKind& kind, const std::string& ns, const std::string& name) {
  if (auto error = RunHook("delete", kind, nullptr)) return *error;
  std::lock_guard<std::mutex> lock(mutex_);
  if (objects_.erase({kind.plural, ns, name}) == 0) return Error(404, "NotFound", kind.plural + " not found");
  return {};
}

}  // namespace cmesh::testing
