// The REST client of the `kube` fixture's admin kubeconfig, for the real-apiserver tests of code
// written against the KubeClient interface (leader election, status writes).
#pragma once

#include <memory>

#include "cmesh/kube/kube_client.h"

namespace cmesh::testing {

// nullptr (and a test failure naming why) when the kubeconfig cannot be loaded or used.
std::unique_ptr<kube::KubeClient> AdminKubeClient();

}  // namespace cmesh::testing
