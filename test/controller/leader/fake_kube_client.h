// An in-memory KubeClient for unit tests of code written against the interface: objects keyed by
// resource, namespace and name, a global resourceVersion counter, conditional Update/UpdateStatus
// (409 on a stale resourceVersion), and a hook that can fail any call. Only the verbs the leader
// elector and the status writer use are implemented; the others fail loudly.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "cmesh/kube/kube_client.h"

namespace cmesh::testing {

class FakeKubeClient : public kube::KubeClient {
 public:
  // Called before each call with the verb ("get", "create", "update", "updatestatus", "delete")
  // and the object (null for get/delete); a returned error is the call's answer.
  using Hook = std::function<std::optional<kube::KubeError>(const std::string& verb, const kube::ResourceKind& kind,
                                                            const nlohmann::json& object)>;

  void SetHook(Hook hook);
  // Stores `object` as is (a resourceVersion is assigned), bypassing the hook.
  nlohmann::json Put(const kube::ResourceKind& kind, nlohmann::json object);
  std::optional<nlohmann::json> Peek(const kube::ResourceKind& kind, const std::string& ns, const std::string& name);
  int Calls(const std::string& verb);

  kube::KubeResult<kube::ObjectList> List(const kube::ResourceKind& kind, const kube::ListOptions& options) override;
  kube::KubeError Watch(const kube::ResourceKind& kind, const kube::WatchOptions& options,
                        const std::function<bool(const kube::WatchEvent&)>& on_event,
                        kube::Cancellation& cancel) override;
  kube::KubeResult<nlohmann::json> Get(const kube::ResourceKind& kind, const std::string& ns,
                                       const std::string& name) override;
  kube::KubeResult<nlohmann::json> Create(const kube::ResourceKind& kind, const std::string& ns,
                                          const nlohmann::json& object) override;
  kube::KubeResult<nlohmann::json> Update(const kube::ResourceKind& kind, const std::string& ns,
                                          const nlohmann::json& object) override;
  kube::KubeResult<nlohmann::json> Patch(const kube::ResourceKind& kind, const std::string& ns,
                                         const std::string& name, kube::PatchType type,
                                         const nlohmann::json& patch) override;
  kube::KubeResult<nlohmann::json> UpdateStatus(const kube::ResourceKind& kind, const std::string& ns,
                                                const nlohmann::json& object) override;
  kube::KubeError Delete(const kube::ResourceKind& kind, const std::string& ns, const std::string& name) override;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // plural, namespace, name
  static Key KeyOf(const kube::ResourceKind& kind, const std::string& ns, const nlohmann::json& object);
  std::optional<kube::KubeError> RunHook(const std::string& verb, const kube::ResourceKind& kind,
                                         const nlohmann::json& object);
  kube::KubeResult<nlohmann::json> Replace(const std::string& verb, const kube::ResourceKind& kind,
                                           const std::string& ns, const nlohmann::json& object, bool status_only);

  std::mutex mutex_;
  Hook hook_;
  std::map<Key, nlohmann::json> objects_;
  std::map<std::string, int> calls_;
  long long next_version_ = 100;
};

}  // namespace cmesh::testing
