#include "webhook_service.h"

#include "cmesh/logging/logger.h"
#include "cmesh/webhook/admission_review.h"

namespace cmesh::pilot {
namespace {

using logging::Log;
using logging::LogLevel;

const kube::ResourceKind kMutating{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
                                   "MutatingWebhookConfiguration", false};
const kube::ResourceKind kValidating{"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
                                     "ValidatingWebhookConfiguration", false};

}  // namespace

std::unique_ptr<WebhookService> WebhookService::Start(WebhookServiceOptions options,
                                                      webhook::NamespaceLabelsLookup namespaces, kube::KubeClient* kube,
                                                      std::string* error) {
  std::unique_ptr<WebhookService> service(new WebhookService());
  service->options_ = std::move(options);
  service->kube_ = kube;
  service->injector_ = std::make_unique<webhook::Injector>(service->options_.injector, std::move(namespaces));
  service->certificates_ =
      std::make_unique<webhook::CertificateSource>(service->options_.certificate, service->options_.cert_dir);
  std::string why;
  service->certificates_->Refresh(webhook::Clock::now(), &why);
  if (!service->certificates_->has_current()) {
    *error = "webhook certificate: " + why;
    return nullptr;
  }
  if (!why.empty()) Log(LogLevel::kWarn, "webhook certificate: " + why);
  service->ca_bundle_ = service->certificates_->current().ca_bundle_pem;
  const webhook::Injector* injector = service->injector_.get();
  service->listener_ = webhook::StartHttpsListener(
      service->options_.address, service->options_.port, service->certificates_->current(),
      [injector](const std::string& method, const std::string& path, const std::string& body) {
        return webhook::ServeWebhook(*injector, method, path, body);
      },
      error);
  if (!service->listener_) return nullptr;
  Log(LogLevel::kInfo, std::string("webhook listening on ") + service->options_.address + ":" +
                           std::to_string(service->options_.port) + " (" +
                           (service->certificates_->mounted() ? "mounted certificate" : "self-signed CA") + ")");
  service->thread_ = std::thread([s = service.get()] { s->Run(); });
  return service;
}

WebhookService::~WebhookService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (listener_) listener_->Stop();
}

void WebhookService::SetLeader(bool leader) {
  {
    std::lock_guard lock(mutex_);
    leader_ = leader;
    if (leader) ca_patched_ = false;  // a new leader makes sure, whatever the last one did
    poked_ = true;
  }
  wake_.notify_all();
}

void WebhookService::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::string why;
    const auto change = certificates_->Refresh(webhook::Clock::now(), &why);
    if (!why.empty()) Log(LogLevel::kWarn, "webhook certificate: " + why);
    if (change != webhook::CertificateSource::Change::kNone) {
      listener_->SetCertificate(certificates_->current());
      Log(LogLevel::kInfo, "webhook certificate renewed");
    }
    lock.lock();
    if (change == webhook::CertificateSource::Change::kServingAndCa) {
      ca_bundle_ = certificates_->current().ca_bundle_pem;
      ca_patched_ = false;
    }
    if (leader_ && !ca_patched_ && kube_ != nullptr) {
      lock.unlock();
      PatchCaBundles();
      lock.lock();
    }
    // Sooner while a patch is owed (the configurations may not be installed yet).
    const auto wait = leader_ && !ca_patched_ && kube_ ? std::min<std::chrono::milliseconds>(std::chrono::seconds(2), options_.refresh_interval)
                                                       : options_.refresh_interval;
    wake_.wait_for(lock, wait, [&] { return stopping_ || poked_; });
    poked_ = false;
  }
}

void WebhookService::PatchCaBundles() {
  std::string bundle;
  {
    std::lock_guard lock(mutex_);
    bundle = ca_bundle_;
  }
  const std::string encoded = webhook::EncodeBase64(bundle);
  bool all = true;
  for (const auto& [kind, name] : {std::pair{kMutating, options_.mutating_configuration},
                                   std::pair{kValidating, options_.validating_configuration}}) {
    if (name.empty()) continue;
    auto current = kube_->Get(kind, "", name);
    if (!current.ok()) {
      // Not installed yet (or no RBAC): said once per attempt at debug level for 404, else warn.
      Log(current.error.http_status == 404 ? LogLevel::kDebug : LogLevel::kWarn,
          "webhook: " + kind.kind + " " + name + ": " + current.error.message);
      all = false;
      continue;
    }
    nlohmann::json patch = nlohmann::json::array();
    const auto& webhooks = (*current.value)["webhooks"];
    if (webhooks.is_array()) {
      for (std::size_t i = 0; i < webhooks.size(); ++i) {
        const auto& client = webhooks[i]["clientConfig"];
        if (client.is_object() && client.value("caBundle", "") == encoded) continue;
        // "add" replaces an existing member too (RFC 6902), so one operation covers both.
        patch.push_back({{"op", "add"}, {"path", "/webhooks/" + std::to_string(i) + "/clientConfig/caBundle"},
                         {"value", encoded}});
      }
    }
    if (patch.empty()) continue;
    auto patched = kube_->Patch(kind, "", name, kube::PatchType::kJson, patch);
    if (!patched.ok()) {
      Log(LogLevel::kWarn, "webhook: patching the caBundle of " + kind.kind + " " + name + ": " + patched.error.message);
      all = false;
      continue;
    }
    Log(LogLevel::kInfo, "webhook: caBundle of " + kind.kind + " " + name + " updated");
  }
  std::lock_guard lock(mutex_);
  if (bundle == ca_bundle_ && all) ca_patched_ = true;
}

}  // namespace cmesh::pilot
