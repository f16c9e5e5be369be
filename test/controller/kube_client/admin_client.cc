#include "admin_client.h"

#include <gtest/gtest.h>

#include "cmesh/kube/kube_config.h"
#include "cmesh/kube/rest_kube_client.h"
#include "kube_env.h"

namespace cmesh::testing {

std::unique_ptr<kube::KubeClient> AdminKubeClient() {
  auto config = kube::LoadKubeconfig(KubeconfigPath());
  if (!config.ok()) {
    ADD_FAILURE() << config.error.message;
    return nullptr;
  }
  auto client = kube::RestKubeClient::Create(*config.value);
  if (!client.ok()) {
    ADD_FAILURE() << client.error.message;
    return nullptr;
  }
  return std::move(*client.value);
}

}  // namespace cmesh::testing
