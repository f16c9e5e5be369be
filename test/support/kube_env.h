// The real Kubernetes test cluster (etcd + kube-apiserver) that scripts/kube-up starts, as tests see
// it. In ctest it is the fixture `kube`: tests set FIXTURES_REQUIRED kube, LABELS kube and
// CMESH_KUBE_DIR (see test/kube/kube_test.cmake, cmesh_kube_test()). Tests that share the instance
// work in their own namespace (KubeNamespace) so that they can run in parallel.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace cmesh::testing {

// $CMESH_KUBE_DIR, default /tmp/cmesh-kube: the instance's state directory.
std::string KubeDir();
// KubeDir()/kubeconfig: the admin (O=system:masters) kubeconfig.
std::string KubeconfigPath();
// KubeDir()/pilot.kubeconfig: CN=system:serviceaccount:istio-system:cmesh-pilot, so RBAC treats it
// as that ServiceAccount.
std::string PilotKubeconfigPath();
// KubeDir()/bin/NAME: the fixture's kubectl and helm.
std::string KubeBin(const std::string& name);
// Whether kube-up has finished starting an instance in KubeDir().
bool KubeAvailable();

struct CommandResult {
  int exit_code = -1;  // -1: did not start, was killed, or timed out (err says which)
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::string stdin_text;
  std::vector<std::string> env;  // "NAME=value" entries added to (or replacing in) the environment
  std::chrono::seconds timeout{120};
};

// Runs argv[0] (a path) with the arguments and collects its output; never throws.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

// The fixture's kubectl with --kubeconfig KubeconfigPath(), then args.
CommandResult RunKubectl(const std::vector<std::string>& args, const std::string& stdin_text = "");
// The same with another kubeconfig (e.g. PilotKubeconfigPath()).
CommandResult RunKubectlAs(const std::string& kubeconfig, const std::vector<std::string>& args,
                           const std::string& stdin_text = "");

// kubectl apply -f <repo>/crds/, then waits until both CRDs are Established. Safe when several
// tests do it at once (a lost create race is retried). Returns "" or what went wrong.
std::string InstallCrds();

// A namespace only the calling test uses: created in the constructor under a unique name derived
// from the test's name; at destruction the objects tests usually create in it are deleted, then the
// namespace. (Without kube-controller-manager the namespace itself stays Terminating: harmless.)
class KubeNamespace {
 public:
  KubeNamespace();
  ~KubeNamespace();
  KubeNamespace(const KubeNamespace&) = delete;
  KubeNamespace& operator=(const KubeNamespace&) = delete;

  const std::string& name() const { return name_; }
  // "" when the namespace was created, else kubectl's complaint.
  const std::string& error() const { return error_; }

 private:
  std::string name_;
  std::string error_;
};

}  // namespace cmesh::testing

// Skips the calling test when no instance runs in KubeDir() (outside the ctest fixture).
#define CMESH_REQUIRE_KUBE()                                                                    \
  if (!::cmesh::testing::KubeAvailable()) {                                                     \
    GTEST_SKIP() << "no test cluster in " << ::cmesh::testing::KubeDir()                        \
                 << ": run scripts/kube-up (ctest's fixture `kube` does) and set CMESH_KUBE_DIR"; \
  }
