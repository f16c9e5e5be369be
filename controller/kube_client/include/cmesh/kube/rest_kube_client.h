// KubeClient over HTTPS to a real kube-apiserver. The HTTP library (cpprestsdk) stays inside
// rest_kube_client.cc so it can be replaced without touching any user of this class.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cmesh/kube/backoff.h"
#include "cmesh/kube/kube_client.h"
#include "cmesh/kube/kube_config.h"

namespace cmesh::kube {

struct RestClientOptions {
  // Inactivity limit of every call but Watch (whose limit is its own timeout plus a margin).
  std::chrono::seconds request_timeout{30};
  // Retries of GET/LIST on connection errors, 429 and 5xx, and of writes that never reached the
  // server (connection refused, DNS, TLS handshake) or that the server turned away with 429.
  BackoffPolicy retry;
  std::string user_agent = "cmesh/kube-client";
  std::chrono::seconds token_recheck{60};  // how often a token file is re-read at most, unless it changed
  // Called on the calling thread after each page a List receives (0 for the first page, again 0
  // after a restart). Tests use it to compact etcd between pages; production leaves it empty.
  std::function<void(int page)> after_list_page;
};

class RestKubeClient : public KubeClient {
 public:
  // Checks the TLS material (CA, certificate, key and that they match) before any call, so a
  // broken kubeconfig fails here with a message rather than at the first handshake.
  static KubeResult<std::unique_ptr<RestKubeClient>> Create(const KubeConfig& config,
                                                             const RestClientOptions& options = {});
  ~RestKubeClient() override;

  KubeResult<ObjectList> List(const ResourceKind& kind, const ListOptions& options) override;
  // Returns a KubeError with an empty message when the watch ended without an error (the server
  // closed it, on_event returned false, or `cancel` fired). No retries: the caller resumes or
  // re-lists, knowing what it has seen.
  KubeError Watch(const ResourceKind& kind, const WatchOptions& options,
                  const std::function<bool(const WatchEvent&)>& on_event, Cancellation& cancel) override;
  KubeResult<nlohmann::json> Get(const ResourceKind& kind, const std::string& ns, const std::string& name) override;
  KubeResult<nlohmann::json> Create(const ResourceKind& kind, const std::string& ns,
                                    const nlohmann::json& object) override;
  KubeResult<nlohmann::json> Update(const ResourceKind& kind, const std::string& ns,
                                    const nlohmann::json& object) override;
  KubeResult<nlohmann::json> Patch(const ResourceKind& kind, const std::string& ns, const std::string& name,
                                   PatchType type, const nlohmann::json& patch) override;
  KubeResult<nlohmann::json> UpdateStatus(const ResourceKind& kind, const std::string& ns,
                                          const nlohmann::json& object) override;
  KubeError Delete(const ResourceKind& kind, const std::string& ns, const std::string& name) override;

 private:
  class Impl;
  explicit RestKubeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cmesh::kube
