#include "pod_runtime.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kube_env.h"
#include "kube_vars.h"

namespace cmesh::install_e2e {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;

// test/mesh's naming, so that its sweep and LeftoversOf cover these too.
constexpr char kNetnsPrefix[] = "cmesh-mesh-";
constexpr char kBridgePrefix[] = "cmbr";
constexpr char kVethPrefix[] = "cmv";

// argv[0] looked up in PATH (RunCommand wants a path).
std::string Tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return name;
}

CommandResult Run(std::vector<std::string> argv) {
  argv[0] = Tool(argv[0]);
  testing::CommandOptions options;
  options.timeout = std::chrono::seconds(30);
  return testing::RunCommand(argv, options);
}

std::string Describe(const std::vector<std::string>& argv, const CommandResult& result) {
  std::string text;
  for (const auto& word : argv) text += word + " ";
  return text + "→ exit " + std::to_string(result.exit_code) + ": " + result.out + result.err;
}

std::string Tail(const std::string& text, int lines) {
  std::size_t at = text.size();
  for (int i = 0; i <= lines && at != std::string::npos && at > 0; ++i) at = text.rfind('\n', at - 1);
  return at == std::string::npos || at == 0 ? text : text.substr(at + 1);
}

// test/mesh's lock file: held while a range is picked and its bridge created, so that this and a
// mesh test running at the same time never take the same range.
class HostLock {
 public:
  HostLock() {
    fd_ = open("/run/lock/cmesh-mesh.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) fd_ = open("/tmp/cmesh-mesh.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~HostLock() {
    if (fd_ >= 0) close(fd_);
  }
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;

 private:
  int fd_ = -1;
};

// A fieldRef of the downward API, from the stored pod and the address it is given.
std::optional<std::string> FieldRef(const nlohmann::json& pod, const std::string& path, const std::string& ip,
                                    const std::string& host_ip) {
  if (path == "metadata.name") return pod["metadata"].value("name", "");
  if (path == "metadata.namespace") return pod["metadata"].value("namespace", "");
  if (path == "metadata.uid") return pod["metadata"].value("uid", "");
  if (path == "spec.serviceAccountName") return pod["spec"].value("serviceAccountName", "");
  if (path == "spec.nodeName") return pod["spec"].value("nodeName", "");
  if (path == "status.podIP") return ip;
  if (path == "status.hostIP") return host_ip;  // the node, as the pod reaches it
  return std::nullopt;
}

}  // namespace

// ---- PodNetwork ----

PodNetwork::PodNetwork() : tag_(std::to_string(getpid())) {
  std::string work = "/tmp/" + std::string(kNetnsPrefix) + tag_ + "-e2e-XXXXXX";
  if (!mkdtemp(work.data())) {
    Fail("mkdtemp failed");
    return;
  }
  work_dir_ = work;
  chmod(work_dir_.c_str(), 0755);  // the sidecars (UID 1337) have their logs opened for them
  fs::create_directories(work_dir_ + "/logs");
  HostLock lock;
  const std::string addresses = Run({"ip", "-4", "-o", "addr", "show"}).out;
  const std::string routes = Run({"ip", "-4", "route", "show", "table", "all"}).out;
  for (int n = 0; n < 256 && subnet_ < 0; ++n) {
    const std::string prefix = "10.251." + std::to_string(n) + ".";
    if (addresses.find(prefix) == std::string::npos && routes.find(prefix) == std::string::npos) subnet_ = n;
  }
  if (subnet_ < 0) {
    Fail("no free 10.251.N.0/24 range");
    return;
  }
  bridge_ = kBridgePrefix + tag_;
  bridge_ip_ = "10.251." + std::to_string(subnet_) + ".1";
  for (std::vector<std::string> command : {std::vector<std::string>{"ip", "link", "add", bridge_, "type", "bridge"},
                                           {"ip", "addr", "add", bridge_ip_ + "/24", "dev", bridge_},
                                           {"ip", "link", "set", bridge_, "up"}}) {
    CommandResult result = Run(command);
    if (result.exit_code != 0) {
      Fail(Describe(command, result));
      return;
    }
    bridge_created_ = true;
  }
}

bool PodNetwork::Fail(const std::string& why) {
  if (error_.empty()) error_ = why;
  return false;
}

std::string PodNetwork::Netns(const std::string& pod) const {
  auto it = netns_.find(pod);
  return it == netns_.end() ? "" : it->second;
}

std::string PodNetwork::AddPod(const std::string& name, const std::string& hosts) {
  if (!error_.empty()) return "";
  const int index = next_++;
  const std::string netns = kNetnsPrefix + tag_ + "-" + name;
  const std::string ip = "10.251." + std::to_string(subnet_) + "." + std::to_string(10 + index);
  const std::string host_end = kVethPrefix + tag_ + "p" + std::to_string(index);
  const std::string pod_end = kVethPrefix + tag_ + "q" + std::to_string(index);
  CommandResult added = Run({"ip", "netns", "add", netns});
  if (added.exit_code != 0) return Fail("ip netns add " + netns + ": " + added.err), "";
  netns_[name] = netns;
  fs::create_directories("/etc/netns/" + netns);
  std::ofstream("/etc/netns/" + netns + "/hosts") << hosts;
  // The kubelet writes each pod's resolv.conf for the cluster DNS. There is none here: the names
  // come from the hosts file, and the nameserver is the pod's own loopback, where nothing listens,
  // so that a query the resolver sends anyway (gRPC's c-ares asks DNS too) is refused at once
  // instead of timing out against the host's nameserver, unreachable from the pod.
  std::ofstream("/etc/netns/" + netns + "/resolv.conf") << "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
  for (std::vector<std::string> command :
       {std::vector<std::string>{"ip", "-n", netns, "link", "set", "lo", "up"},
        {"ip", "link", "add", host_end, "type", "veth", "peer", "name", pod_end},
        {"ip", "link", "set", pod_end, "netns", netns},
        {"ip", "-n", netns, "link", "set", pod_end, "name", "eth0"},
        {"ip", "-n", netns, "addr", "add", ip + "/24", "dev", "eth0"},
        {"ip", "-n", netns, "link", "set", "eth0", "up"},
        {"ip", "-n", netns, "route", "add", "default", "via", bridge_ip_},
        {"ip", "link", "set", host_end, "master", bridge_, "up"}}) {
    CommandResult result = Run(command);
    if (result.exit_code != 0) return Fail(Describe(command, result)), "";
  }
  return ip;
}

PodNetwork::~PodNetwork() {
  std::error_code ec;
  for (const auto& [pod, netns] : netns_) {
    // Whatever still runs in the pod (the runtime kills its own first).
    std::istringstream pids(Run({"ip", "netns", "pids", netns}).out);
    std::string line;
    while (std::getline(pids, line)) {
      if (!line.empty()) kill(static_cast<pid_t>(std::stol(line)), SIGKILL);
    }
    Run({"ip", "netns", "del", netns});  // takes the veth pair with it
    fs::remove_all("/etc/netns/" + netns, ec);
  }
  for (int i = 0; i < next_; ++i) {
    const std::string host_end = kVethPrefix + tag_ + "p" + std::to_string(i);
    if (access(("/sys/class/net/" + host_end).c_str(), F_OK) == 0) Run({"ip", "link", "del", host_end});
  }
  if (bridge_created_) Run({"ip", "link", "del", bridge_});
  if (!work_dir_.empty() && std::getenv("CMESH_MESH_KEEP_LOGS") == nullptr) fs::remove_all(work_dir_, ec);
}

// ---- PodRuntime ----

PodRuntime::~PodRuntime() {
  for (auto& running : running_) running.child->Kill();
}

std::unique_ptr<mesh_test::Child> PodRuntime::Spawn(const std::string& pod, const std::string& container,
                                                    const std::vector<std::string>& argv_in,
                                                    const std::vector<std::string>& env_in, unsigned uid,
                                                    unsigned gid) {
  const std::string log = network_.work_dir() + "/logs/" + pod + "." + container + ".log";
  const std::string netns = network_.Netns(pod);
  const std::string netns_path = "/run/netns/" + netns;
  const std::string hosts = "/etc/netns/" + netns + "/hosts";
  const std::string resolv = "/etc/netns/" + netns + "/resolv.conf";
  std::vector<std::string> argv = argv_in, env = env_in;
  std::vector<char*> args, envp;
  for (auto& word : argv) args.push_back(word.data());
  args.push_back(nullptr);
  for (auto& word : env) envp.push_back(word.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    // What `ip netns exec` does: the pod's network, and its hosts and resolv.conf over /etc's in a mount
    // namespace of its own (so Service names and cmesh-pilot's name resolve as in the pod).
    const int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0 || unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0 ||
        mount(hosts.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0 ||
        mount(resolv.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) {
      std::fprintf(stderr, "entering %s: %s\n", netns.c_str(), std::strerror(errno));
      _exit(127);
    }
    if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
      std::fprintf(stderr, "setresuid %u/%u: %s\n", uid, gid, std::strerror(errno));
      _exit(127);
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // after the credential change, which clears it
    if (getppid() != parent) _exit(127);
    execve(args[0], args.data(), envp.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  if (pid < 0) return nullptr;
  return std::make_unique<mesh_test::Child>(pid, log);
}

std::string PodRuntime::Run(const nlohmann::json& pod, const std::string& hosts, std::string* error) {
  const std::string name = pod["metadata"].value("name", "");
  const std::string ip = network_.AddPod(name, hosts);
  if (ip.empty()) return *error = network_.error(), "";

  // One container: its env (in order, so later values may refer to earlier ones), then argv.
  auto prepare = [&](const nlohmann::json& container, std::vector<std::string>* argv, std::vector<std::string>* env,
                     unsigned* uid, unsigned* gid) -> std::string {
    std::map<std::string, std::string> vars;
    std::vector<std::string> order;
    for (const auto& var : container.value("env", nlohmann::json::array())) {
      const std::string var_name = var.value("name", "");
      std::string value;
      if (var.contains("valueFrom")) {
        const std::string path = var["valueFrom"].value("fieldRef", nlohmann::json::object()).value("fieldPath", "");
        auto field = FieldRef(pod, path, ip, network_.bridge_ip());
        if (!field) return "env " + var_name + ": unsupported valueFrom " + var["valueFrom"].dump();
        value = *field;
      } else {
        value = ExpandKubeVars(var.value("value", ""), vars);
      }
      if (!vars.count(var_name)) order.push_back(var_name);
      vars[var_name] = value;
    }
    std::vector<std::string> words;
    for (const char* key : {"command", "args"}) {
      for (const auto& word : container.value(key, nlohmann::json::array())) {
        words.push_back(ExpandKubeVars(word.get<std::string>(), vars));
      }
    }
    if (words.empty()) return "container " + container.value("name", "") + " has no command (no image to run here)";
    // The image's binary is the build's.
    words[0] = mesh_test::MeshBinDir() + "/" + fs::path(words[0]).filename().string();
    *argv = std::move(words);
    env->assign({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + name});
    for (const auto& var_name : order) env->push_back(var_name + "=" + vars[var_name]);
    // The container's securityContext wins over the pod's; without either, root (the image's
    // default user here). Capabilities are not narrowed: the init container keeps root's, and the
    // change to a non-root UID drops them all for the others.
    const nlohmann::json security = container.value("securityContext", nlohmann::json::object());
    const nlohmann::json pod_security = pod["spec"].value("securityContext", nlohmann::json::object());
    *uid = security.value("runAsUser", pod_security.value("runAsUser", 0u));
    *gid = security.value("runAsGroup", pod_security.value("runAsGroup", *uid));
    return "";
  };

  for (const auto& init : pod["spec"].value("initContainers", nlohmann::json::array())) {
    std::vector<std::string> argv, env;
    unsigned uid = 0, gid = 0;
    if (std::string why = prepare(init, &argv, &env, &uid, &gid); !why.empty()) return *error = name + ": " + why, "";
    auto child = Spawn(name, init.value("name", ""), argv, env, uid, gid);
    if (!child) return *error = "fork failed", "";
    const int code = child->Wait(std::chrono::seconds(30));
    if (code != 0) {
      return *error = name + ": init container " + init.value("name", "") + " exited " + std::to_string(code) + ":\n" +
                      child->Log(),
             "";
    }
  }
  for (const auto& container : pod["spec"].value("containers", nlohmann::json::array())) {
    std::vector<std::string> argv, env;
    unsigned uid = 0, gid = 0;
    if (std::string why = prepare(container, &argv, &env, &uid, &gid); !why.empty()) {
      return *error = name + ": " + why, "";
    }
    auto child = Spawn(name, container.value("name", ""), argv, env, uid, gid);
    if (!child) return *error = "fork failed", "";
    running_.push_back({name, container.value("name", ""), std::move(child)});
  }
  return ip;
}

std::string PodRuntime::WaitReady(const nlohmann::json& pod, const std::string& ip, std::chrono::seconds timeout) {
  const std::string name = pod["metadata"].value("name", "");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& container : pod["spec"].value("containers", nlohmann::json::array())) {
    const std::string container_name = container.value("name", "");
    mesh_test::Child* process = Process(name, container_name);
    if (process == nullptr) return name + "/" + container_name + " is not running";
    const nlohmann::json get =
        container.value("readinessProbe", nlohmann::json::object()).value("httpGet", nlohmann::json());
    int port = 0;
    if (get.is_object() && get["port"].is_number_integer()) port = get["port"].get<int>();
    if (get.is_object() && get["port"].is_string()) {  // a named port of the container
      for (const auto& p : container.value("ports", nlohmann::json::array())) {
        if (p.value("name", "") == get["port"].get<std::string>()) port = p.value("containerPort", 0);
      }
    }
    if (get.is_object() && port == 0) return name + "/" + container_name + ": unsupported probe " + get.dump();
    while (get.is_object() && !HostGet(ip, port, get.value("path", "/"))) {
      if (!process->running() || std::chrono::steady_clock::now() > deadline) {
        return name + "/" + container_name + " is not ready (" + get.dump() + ")\n" + Logs();
      }
      usleep(100 * 1000);
    }
    if (!process->running()) return name + "/" + container_name + " exited\n" + Logs();
  }
  return "";
}

mesh_test::Child* PodRuntime::Process(const std::string& pod, const std::string& container) {
  for (auto& running : running_) {
    if (running.pod == pod && running.container == container) return running.child.get();
  }
  return nullptr;
}

CommandResult PodRuntime::Exec(const std::string& pod, std::vector<std::string> argv,
                               std::chrono::seconds timeout) const {
  argv[0] = Tool(argv[0]);
  argv.insert(argv.begin(), {Tool("ip"), "netns", "exec", network_.Netns(pod)});
  testing::CommandOptions options;
  options.timeout = timeout;
  return testing::RunCommand(argv, options);
}

std::optional<std::string> PodRuntime::HostGet(const std::string& ip, int port, const std::string& path) const {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval timeout{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    // HTTP/1.0: the answer ends with the connection, never chunked.
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + ip + "\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  const std::size_t body = answer.find("\r\n\r\n");
  if (answer.compare(0, 9, "HTTP/1.1 ") != 0 && answer.compare(0, 9, "HTTP/1.0 ") != 0) return std::nullopt;
  if (answer.compare(9, 3, "200") != 0 || body == std::string::npos) return std::nullopt;
  return answer.substr(body + 4);
}

std::string PodRuntime::Logs() const {
  std::string text;
  for (const auto& running : running_) {
    text += "---- " + running.pod + "/" + running.container + " (last lines)\n" + Tail(running.child->Log(), 15);
    if (!text.empty() && text.back() != '\n') text += '\n';
  }
  return text;
}

}  // namespace cmesh::install_e2e
