// cmesh-pilot's admission webhooks (sidecar injection and config validation, webhook/) served
// over HTTPS on 15017: the serving certificate (a mounted one, else a self-made CA's, renewed
// before expiry without a restart), and, while this replica leads, the caBundle of the webhook
// configurations it owns kept equal to that CA.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cmesh/kube/kube_client.h"
#include "cmesh/webhook/certificate_source.h"
#include "cmesh/webhook/https_listener.h"
#include "cmesh/webhook/injector.h"

namespace cmesh::pilot {

struct WebhookServiceOptions {
  std::string address = "0.0.0.0";
  int port = 15017;
  std::string cert_dir;  // a mounted TLS Secret (tls.crt, tls.key, ca.crt); "" or absent: self-made
  webhook::CertificateOptions certificate;
  webhook::InjectorConfig injector;
  // The webhook configurations whose caBundle the leader keeps current ("" skips one).
  std::string mutating_configuration = "cmesh-sidecar-injector";
  std::string validating_configuration = "cmesh-validator";
  std::chrono::milliseconds refresh_interval{60'000};
};

class WebhookService {
 public:
  // nullptr and *error when the certificate cannot be made or loaded, or the port not bound.
  // `kube` (may be null: no caBundle patching) must outlive the service.
  static std::unique_ptr<WebhookService> Start(WebhookServiceOptions options, webhook::NamespaceLabelsLookup namespaces,
                                               kube::KubeClient* kube, std::string* error);
  ~WebhookService();

  // The leader patches the caBundle now (and after every CA change); the others do not.
  void SetLeader(bool leader);
  const std::string& template_error() const { return injector_->template_error(); }

 private:
  WebhookService() = default;
  void Run();
  void PatchCaBundles();

  WebhookServiceOptions options_;
  kube::KubeClient* kube_ = nullptr;
  std::unique_ptr<webhook::Injector> injector_;
  std::unique_ptr<webhook::CertificateSource> certificates_;
  std::unique_ptr<webhook::HttpsListener> listener_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool poked_ = false;  // SetLeader: run the loop now
  bool leader_ = false;
  bool ca_patched_ = false;  // the current CA is in the configurations (as far as we know)
  std::string ca_bundle_;
  std::thread thread_;
};

}  // namespace cmesh::pilot
