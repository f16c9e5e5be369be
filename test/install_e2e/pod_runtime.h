// A stand-in for the kubelet and the CNI plugin, for the install end to end (issue 7 §5): it runs
// Pods that the apiserver stored, injected, as the node would run them, on this machine.
//
// - PodNetwork: a Linux bridge with a free 10.251.N.0/24 (its .1 is the host's address, where
//   cmesh-pilot listens), and per pod a network namespace with a veth pair on the bridge, the pod's
//   address, a default route via the bridge, and /etc/netns/NAME/hosts (the Service names and
//   cmesh-pilot's Service name, which the injected --xds-address carries).
// - PodRuntime::Run: from the stored Pod JSON, the init containers' command+args as root (waited
//   for), then every container's command+args with its env (values, and fieldRefs from the stored
//   pod and its address) and $(VAR) expanded as the kubelet does, as the container's
//   securityContext runAsUser/runAsGroup. A container's command names a binary of the build
//   (build/bin), as the image would carry it.
//
// Names follow test/mesh's fixture (namespaces `cmesh-mesh-PID-POD`, bridge `cmbrPID`, veths
// `cmvPIDpN`/`cmvPIDqN`, /tmp/cmesh-mesh-PID-*), so that its sweep (Mesh::UnavailableReason)
// removes what a killed run left and its LeftoversOf(pid) checks that nothing was. The destructors
// remove every process, namespace, link and file, also when the test failed; children get SIGKILL
// when the test process dies.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube_env.h"
#include "mesh_fixture.h"

namespace cmesh::install_e2e {

class PodNetwork {
 public:
  PodNetwork();
  ~PodNetwork();
  PodNetwork(const PodNetwork&) = delete;
  PodNetwork& operator=(const PodNetwork&) = delete;

  const std::string& error() const { return error_; }
  const std::string& bridge_ip() const { return bridge_ip_; }
  const std::string& work_dir() const { return work_dir_; }

  // A namespace for pod `name` with the next address, and `hosts` as its /etc/hosts. Returns the
  // pod's address, or "" (error() says why).
  std::string AddPod(const std::string& name, const std::string& hosts);
  std::string Netns(const std::string& pod) const;  // "" when unknown

 private:
  bool Fail(const std::string& why);

  std::string error_;
  std::string tag_;
  std::string work_dir_;
  int subnet_ = -1;
  std::string bridge_;
  std::string bridge_ip_;
  bool bridge_created_ = false;
  std::map<std::string, std::string> netns_;  // pod → namespace
  int next_ = 0;
};

class PodRuntime {
 public:
  explicit PodRuntime(PodNetwork& network) : network_(network) {}
  ~PodRuntime();
  PodRuntime(const PodRuntime&) = delete;
  PodRuntime& operator=(const PodRuntime&) = delete;

  // Runs the stored pod (kubectl get pod -o json) in a new namespace with `hosts`; its address, or
  // "" with `*error` set (with the logs of what ran).
  std::string Run(const nlohmann::json& pod, const std::string& hosts, std::string* error);

  // As the kubelet's readiness probes: waits until every container's readinessProbe.httpGet
  // answers 200 on the pod's address (containers without one are ready once running). "" or
  // what is not ready, with the logs.
  std::string WaitReady(const nlohmann::json& pod, const std::string& ip, std::chrono::seconds timeout);
  // argv inside the pod through `ip netns exec` (so its hosts file applies), as root, with its
  // output; argv[0] is looked up in PATH.
  testing::CommandResult Exec(const std::string& pod, std::vector<std::string> argv,
                              std::chrono::seconds timeout) const;
  // GET http://POD_IP:port/path from the host (the sidecars' 15021 and 15090 are not captured):
  // the body of a 200, or nothing.
  std::optional<std::string> HostGet(const std::string& ip, int port, const std::string& path) const;
  // The process of `container` in `pod`, or null.
  mesh_test::Child* Process(const std::string& pod, const std::string& container);
  std::string Logs() const;  // the last lines of every log

 private:
  struct Running {
    std::string pod;
    std::string container;
    std::unique_ptr<mesh_test::Child> child;
  };
  std::unique_ptr<mesh_test::Child> Spawn(const std::string& pod, const std::string& container,
                                          const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                          unsigned uid, unsigned gid);

  PodNetwork& network_;
  std::vector<Running> running_;
};

}  // namespace cmesh::install_e2e
