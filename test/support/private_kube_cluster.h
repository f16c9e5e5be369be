// A kube-apiserver of the test's own: scripts/kube-up / kube-down in /tmp/cmesh-private-kube-PID
// (the cluster-wide webhooks and RBAC of an install must not reach the shared fixture instance,
// whose other tests create Pods and VirtualServices). One at a time per test process. A run that was killed cannot stop its instance:
// the next run does (kube-down, and SIGKILL to any process whose command line names that
// directory, such as the local cmesh-pilot), once that pid is gone.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "kube_env.h"

namespace cmesh::testing {

class PrivateKubeCluster {
 public:
  PrivateKubeCluster();  // sweeps dead runs' instances, then starts this one; check error()
  ~PrivateKubeCluster();  // kube-down, and the directory and its lock file removed
  PrivateKubeCluster(const PrivateKubeCluster&) = delete;
  PrivateKubeCluster& operator=(const PrivateKubeCluster&) = delete;

  const std::string& error() const { return error_; }
  // A file of the state directory (kubeconfig, pilot.kubeconfig, ...).
  std::string Path(const std::string& file) const { return dir_ + "/" + file; }
  // The fixture's kubectl and helm with this instance's admin kubeconfig.
  CommandResult Kubectl(std::vector<std::string> args, const std::string& stdin_text = "") const;
  CommandResult Helm(std::vector<std::string> args) const;
  bool Exists(const std::string& kind, const std::string& name, const std::string& ns = "") const;
  // `kubectl auth can-i ARGS` as cmesh-pilot's ServiceAccount.
  bool PilotCan(std::vector<std::string> args) const;
  // `kubectl get ARGS -o json`, parsed; null when kubectl failed.
  nlohmann::json GetJson(const std::vector<std::string>& args) const;

 private:
  static CommandOptions Options(const std::string& dir, std::chrono::seconds timeout);
  static void Down(const std::string& dir);
  static void SweepDeadRuns();

  std::string dir_;
  std::string error_;
};

// What cmesh's two charts create with default values: kind, name, namespace ("" cluster-scoped).
const std::vector<std::tuple<std::string, std::string, std::string>>& CmeshChartObjects();

}  // namespace cmesh::testing
