// A small mesh on this machine, for the end-to-end test (test/mesh) and the interception
// benchmark (bench/mesh): one real network namespace per pod, a veth pair per pod on a Linux
// bridge the fixture creates, cmesh-init's rules and cmesh-proxy (as UID/GID 1337) in the pods
// that have a sidecar, the apps as plain processes, and cmesh-pilot in file mode on the host side
// of the bridge serving Kubernetes-shaped YAML with the pods' real addresses.
//
// Cluster IPs are virtual, as in Kubernetes with kube-proxy gone: nobody owns them, the client's
// sidecar captures the connection (iptables REDIRECT to 15001) and routes it by its original
// destination to a pod's real address. Service names resolve to cluster IPs through
// /etc/netns/NAME/hosts, which `ip netns exec` bind-mounts over /etc/hosts.
//
// Everything it creates carries the creating process's pid in its name (namespaces
// `cmesh-mesh-PID-POD`, bridge `cmbrPID`, veths `cmvPIDpN`), so parallel runs cannot collide,
// and a run that died without cleaning up is swept by the next one (its pid is gone). The
// destructor removes every process, namespace, link, /etc/netns directory and temp file, also
// when the test failed; the children also get SIGKILL when the creating process dies.
// CMESH_MESH_KEEP_LOGS=1 keeps the work directory (/tmp/cmesh-mesh-PID-*: config and logs) until
// the next run sweeps it.
//
// No gtest here: the benchmark links it too.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::mesh_test {

enum class AppKind {
  kNone,         // no app process (a client pod: the test runs its commands there)
  kHttpBackend,  // cmesh-demo-backend --service APP --version VERSION on 0.0.0.0:port
  kGrpcEcho,     // cmesh-mesh-grpc-echo serve --name POD on 0.0.0.0:port
};

struct PodSpec {
  std::string name;  // the pod's name, e.g. "reviews-v1" (also the namespace suffix)
  std::string app;   // label app (which Service selects it)
  std::string version = "v1";
  bool sidecar = true;  // cmesh-init + cmesh-proxy, or a pod outside the mesh
  AppKind kind = AppKind::kHttpBackend;
  int port = 9080;                    // the app's container port
  std::string port_name = "http";     // the container port's name (Istio's protocol prefix)
  std::vector<std::string> app_flags = {};  // more flags for the app (e.g. --body-bytes N)
};

struct ServiceSpec {
  std::string name;  // selects the pods whose app label is this name
  int port = 9080;   // service port = target port
  std::string port_name = "http";
};

struct MeshOptions {
  std::vector<PodSpec> pods;
  std::vector<ServiceSpec> services;
  // Extra files of the pilot's config directory (VirtualServices, DestinationRules), by file name.
  std::map<std::string, std::string> config;
  int proxy_concurrency = 1;
  bool access_log = true;  // the sidecars' access log, into their log files
  std::vector<std::string> extra_proxy_flags;
};

struct CommandResult {
  int exit_code = -1;  // -1: killed (timeout) or could not start
  bool timed_out = false;
  std::string out;
  std::string err;
};

// A background process with its output in a log file.
class Child {
 public:
  Child(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  std::string Log() const;
  // Waits for the exit; the exit code, or -1 after `timeout` (then the process is killed).
  int Wait(std::chrono::milliseconds timeout);
  void Kill();  // SIGKILL and reap

 private:
  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

class Mesh {
 public:
  // Why a mesh cannot run here (not root, a missing tool, no network namespaces), or nothing.
  // Also sweeps what a crashed earlier run left behind.
  static std::optional<std::string> UnavailableReason();

  explicit Mesh(MeshOptions options);
  ~Mesh();
  Mesh(const Mesh&) = delete;
  Mesh& operator=(const Mesh&) = delete;

  // Whether everything started and every sidecar is ready; error() says what did not, with logs.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::string PodIp(const std::string& pod) const;
  std::string ClusterIp(const std::string& service) const;
  std::string Netns(const std::string& pod) const;
  std::string BridgeIp() const { return bridge_ip_; }
  std::string Fqdn(const std::string& service) const { return service + ".default.svc.cluster.local"; }
  std::string ConfigDir() const;

  // Runs argv inside the pod through `ip netns exec` (so Service names resolve), as root or, with
  // `uid`, as that UID/GID (setpriv). The program is looked up in PATH unless it has a slash.
  CommandResult Exec(const std::string& pod, const std::vector<std::string>& argv,
                     std::optional<unsigned> uid = std::nullopt,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // The same in the background; the output goes to a log file.
  std::unique_ptr<Child> Start(const std::string& pod, const std::vector<std::string>& argv,
                               std::optional<unsigned> uid = std::nullopt) const;

  // GET http://POD_IP:port/path from the host side of the bridge (the sidecars' 15090 and 15021
  // are never captured): the body, or nothing when there was no 200.
  std::optional<std::string> HttpGetFromHost(const std::string& pod, int port, const std::string& path) const;
  std::string Metrics(const std::string& pod) const;  // 15090 /stats/prometheus ("" when none)

  // Writes a file of the pilot's config directory atomically (rename), as `kubectl apply` would
  // change one object; the pilot's inotify watch pushes the change.
  void WriteConfig(const std::string& file, const std::string& yaml) const;

  // SIGKILLs the pod's app and sidecar (the pod dies; its namespace stays until the end).
  void KillPod(const std::string& pod);

  // The last lines of every process's log, for a failure message.
  std::string Logs() const;

 private:
  struct Pod {
    PodSpec spec;
    std::string netns;
    std::string ip;
    std::unique_ptr<Child> app;
    std::unique_ptr<Child> proxy;
  };
  bool Setup();
  bool Fail(const std::string& why);
  std::string PodsYaml() const;
  std::string ServicesYaml() const;
  std::unique_ptr<Child> SpawnInPod(const Pod& pod, const std::vector<std::string>& argv,
                                    std::optional<unsigned> uid, const std::string& log_name) const;
  const Pod* FindPod(const std::string& name) const;

  MeshOptions options_;
  std::string error_;
  std::string tag_;  // the pid, in every name
  std::string work_dir_;
  int subnet_ = -1;  // N of 10.251.N.0/24 (pods) and 10.252.N.0/24 (cluster IPs)
  std::string bridge_;
  std::string bridge_ip_;
  bool bridge_created_ = false;
  std::vector<std::unique_ptr<Pod>> pods_;
  std::vector<std::string> created_netns_;
  std::unique_ptr<Child> pilot_;
  int xds_port_ = 0;
};

// Sum of the samples of `metric` (Prometheus text format) whose labels include all of `labels`.
double MetricSum(const std::string& exposition, const std::string& metric,
                 const std::map<std::string, std::string>& labels);

// Namespaces, links, /etc/netns directories and /tmp work directories whose name carries this
// pid (what a Mesh left behind after its destructor: should be nothing).
std::vector<std::string> LeftoversOf(pid_t pid);

// Where the binaries are: the project's build/bin, and this folder's test apps.
std::string MeshBinDir();
std::string GrpcEchoBinary();

}  // namespace cmesh::mesh_test
