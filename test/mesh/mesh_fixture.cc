#include "mesh_fixture.h"
#include "mesh_host.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace cmesh::mesh_test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr unsigned kProxyUid = 1337;

// Blocking HTTP/1.0 GET (so the answer is never chunked) with a bound on each step.
std::optional<std::pair<int, std::string>> HttpGet(const std::string& ip, int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return std::nullopt;
  }
  WriteAll(fd, "GET " + path + " HTTP/1.0\r\nHost: " + ip + "\r\n\r\n");
  std::string answer;
  char buffer[8192];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) answer.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  if (answer.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  const std::size_t space = answer.find(' ');
  const std::size_t body = answer.find("\r\n\r\n");
  if (space == std::string::npos || body == std::string::npos) return std::nullopt;
  return std::make_pair(std::atoi(answer.c_str() + space + 1), answer.substr(body + 4));
}

}  // namespace

std::string MeshBinDir() {
  const char* env = std::getenv("CMESH_BIN_DIR");
  return env && *env ? env : CMESH_MESH_DEFAULT_BIN_DIR;
}

std::string GrpcEchoBinary() { return CMESH_MESH_GRPC_ECHO; }

// ---- Child ----

Child::~Child() { Kill(); }

bool Child::running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return false;
  }
  return done == 0;
}

std::string Child::Log() const { return ReadFileText(log_path_); }

int Child::Wait(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) {
      Kill();
      return -1;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return exit_code_.value_or(-1);
}

void Child::Kill() {
  if (pid_ > 0 && !exit_code_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_code_ = -1;
  }
}

// ---- Mesh ----

std::optional<std::string> Mesh::UnavailableReason() {
  if (geteuid() != 0) return "not root: network namespaces, bridges and iptables need root";
  for (const char* tool : {"ip", "iptables-save", "iptables-restore", "curl", "setpriv"}) {
    if (!InPath(tool)) return std::string(tool) + " not found in PATH (iproute2, iptables, curl, util-linux)";
  }
  static const std::optional<std::string> probe = [] {
    HostLock lock;
    SweepLeftovers();
    const std::string name = std::string(kNetnsPrefix) + std::to_string(getpid()) + "-probe";
    CommandResult added = Run({"ip", "netns", "add", name});
    if (added.exit_code != 0) return std::optional<std::string>("`ip netns add` failed: " + added.err);
    Run({"ip", "netns", "del", name});
    const std::string bridge = kBridgePrefix + std::to_string(getpid());
    CommandResult bridged = Run({"ip", "link", "add", bridge, "type", "bridge"});
    if (bridged.exit_code != 0) return std::optional<std::string>("cannot create a bridge: " + bridged.err);
    Run({"ip", "link", "del", bridge});
    return std::optional<std::string>();
  }();
  return probe;
}

Mesh::Mesh(MeshOptions options) : options_(std::move(options)) {
  tag_ = std::to_string(getpid());
  if (!Setup() && error_.empty()) error_ = "mesh setup failed";
}

bool Mesh::Fail(const std::string& why) {
  if (error_.empty()) error_ = why + "\n" + Logs();
  return false;
}

const Mesh::Pod* Mesh::FindPod(const std::string& name) const {
  for (const auto& pod : pods_) {
    if (pod->spec.name == name) return pod.get();
  }
  return nullptr;
}

std::string Mesh::PodIp(const std::string& pod) const {
  const Pod* p = FindPod(pod);
  return p ? p->ip : "";
}

std::string Mesh::Netns(const std::string& pod) const {
  const Pod* p = FindPod(pod);
  return p ? p->netns : "";
}

std::string Mesh::ClusterIp(const std::string& service) const {
  for (std::size_t i = 0; i < options_.services.size(); ++i) {
    if (options_.services[i].name == service) {
      return "10.252." + std::to_string(subnet_) + "." + std::to_string(10 + i);
    }
  }
  return "";
}

std::string Mesh::ConfigDir() const { return work_dir_ + "/config"; }

bool Mesh::Setup() {
  if (auto why = UnavailableReason()) return Fail(*why);
  // A binary missing is a broken build, not a machine that cannot run the mesh: a failure.
  for (const std::string binary : {"cmesh-init", "cmesh-proxy", "cmesh-pilot", "cmesh-demo-backend"}) {
    if (access((MeshBinDir() + "/" + binary).c_str(), X_OK) != 0) {
      return Fail(binary + " is not built in " + MeshBinDir());
    }
  }
  std::string work_template = "/tmp/" + std::string(kNetnsPrefix) + tag_ + "-XXXXXX";
  if (!mkdtemp(work_template.data())) return Fail("mkdtemp failed");
  work_dir_ = work_template;
  fs::create_directories(ConfigDir());
  fs::create_directories(work_dir_ + "/logs");
  // The proxies (UID 1337) open nothing here, but their log files are opened for them.
  chmod(work_dir_.c_str(), 0755);

  // A /24 for the pods and one for the cluster IPs that no address or route of this host uses.
  {
    HostLock lock;
    const std::string addresses = Run({"ip", "-4", "-o", "addr", "show"}).out;
    const std::string routes = Run({"ip", "-4", "route", "show", "table", "all"}).out;
    for (int n = 0; n < 256 && subnet_ < 0; ++n) {
      const std::string pods = "10.251." + std::to_string(n) + ".";
      const std::string services = "10.252." + std::to_string(n) + ".";
      bool used = false;
      for (const std::string* text : {&addresses, &routes}) {
        used = used || text->find(pods) != std::string::npos || text->find(services) != std::string::npos;
      }
      if (!used) subnet_ = n;
    }
    if (subnet_ < 0) return Fail("no free 10.251.N.0/24 range");
    bridge_ = kBridgePrefix + tag_;
    bridge_ip_ = "10.251." + std::to_string(subnet_) + ".1";
    for (std::vector<std::string> command :
         {std::vector<std::string>{"ip", "link", "add", bridge_, "type", "bridge"},
          {"ip", "addr", "add", bridge_ip_ + "/24", "dev", bridge_},
          {"ip", "link", "set", bridge_, "up"}}) {
      CommandResult result = Run(command);
      if (command[2] == "add" && command[1] == "link" && result.exit_code == 0) bridge_created_ = true;
      if (result.exit_code != 0) return Fail(Describe(command, result));
    }
  }

  // Pods: a namespace, a veth pair (the host end on the bridge, the pod end renamed eth0), an
  // address, a default route via the bridge (it covers the cluster IPs), and /etc/netns hosts.
  std::string hosts = "127.0.0.1 localhost\n";
  for (const auto& service : options_.services) {
    hosts += ClusterIp(service.name) + " " + service.name + " " + service.name + ".default " + Fqdn(service.name) +
             "\n";
  }
  for (std::size_t i = 0; i < options_.pods.size(); ++i) {
    auto pod = std::make_unique<Pod>();
    pod->spec = options_.pods[i];
    pod->netns = kNetnsPrefix + tag_ + "-" + pod->spec.name;
    pod->ip = "10.251." + std::to_string(subnet_) + "." + std::to_string(10 + i);
    const std::string host_end = kVethPrefix + tag_ + "p" + std::to_string(i);
    const std::string pod_end = kVethPrefix + tag_ + "q" + std::to_string(i);
    CommandResult added = Run({"ip", "netns", "add", pod->netns});
    if (added.exit_code != 0) return Fail("ip netns add " + pod->netns + ": " + added.err);
    created_netns_.push_back(pod->netns);
    const std::string hosts_dir = "/etc/netns/" + pod->netns;
    fs::create_directories(hosts_dir);
    std::ofstream(hosts_dir + "/hosts") << hosts;
    for (std::vector<std::string> command :
         {std::vector<std::string>{"ip", "-n", pod->netns, "link", "set", "lo", "up"},
          {"ip", "link", "add", host_end, "type", "veth", "peer", "name", pod_end},
          {"ip", "link", "set", pod_end, "netns", pod->netns},
          {"ip", "-n", pod->netns, "link", "set", pod_end, "name", "eth0"},
          {"ip", "-n", pod->netns, "addr", "add", pod->ip + "/24", "dev", "eth0"},
          {"ip", "-n", pod->netns, "link", "set", "eth0", "up"},
          {"ip", "-n", pod->netns, "route", "add", "default", "via", bridge_ip_},
          {"ip", "link", "set", host_end, "master", bridge_, "up"}}) {
      CommandResult result = Run(command);
      if (result.exit_code != 0) return Fail(Describe(command, result));
    }
    pods_.push_back(std::move(pod));
  }

  // The pilot, on the host end of the bridge, serving the config directory.
  std::ofstream(ConfigDir() + "/services.yaml") << ServicesYaml();
  std::ofstream(ConfigDir() + "/pods.yaml") << PodsYaml();
  for (const auto& [file, yaml] : options_.config) std::ofstream(ConfigDir() + "/" + file) << yaml;
  {
    std::vector<std::string> argv = {MeshBinDir() + "/cmesh-pilot", "--config-dir", ConfigDir(),
                                     "--listen-address", bridge_ip_, "--xds-port", "0", "--debug-port", "0",
                                     "--monitoring-port", "0", "--debounce-quiet", "50ms", "--debounce-max",
                                     "200ms"};
    const std::string log = work_dir_ + "/logs/pilot.log";
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      auto args = Argv(argv);
      execv(args[0], args.data());
      _exit(127);
    }
    if (pid < 0) return Fail("fork failed");
    pilot_ = std::make_unique<Child>(pid, log);
    const std::regex port_line("xds listening on [0-9.]+:([0-9]+)");
    for (auto deadline = Clock::now() + std::chrono::seconds(20); xds_port_ == 0; ) {
      std::smatch match;
      const std::string text = pilot_->Log();
      if (std::regex_search(text, match, port_line)) {
        xds_port_ = std::stoi(match[1]);
      } else if (!pilot_->running() || Clock::now() > deadline) {
        return Fail("cmesh-pilot did not start");
      } else {
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }

  // Per pod: cmesh-init, the sidecar (UID/GID 1337), the app (root, as apps are).
  for (const auto& pod : pods_) {
    if (pod->spec.sidecar) {
      std::vector<std::string> init = {"ip", "netns", "exec", pod->netns, MeshBinDir() + "/cmesh-init"};
      CommandResult result = Run(init);
      if (result.exit_code != 0) return Fail(Describe(init, result));
      std::vector<std::string> proxy = {
          MeshBinDir() + "/cmesh-proxy",
          "--xds-address", bridge_ip_ + ":" + std::to_string(xds_port_),
          "--node-id", "sidecar~" + pod->ip + "~" + pod->spec.name + ".default~default.svc.cluster.local",
          "--labels", "app=" + pod->spec.app + ",version=" + pod->spec.version,
          "--concurrency", std::to_string(options_.proxy_concurrency)};
      if (options_.access_log) proxy.insert(proxy.end(), {"--access-log", "-"});
      proxy.insert(proxy.end(), options_.extra_proxy_flags.begin(), options_.extra_proxy_flags.end());
      pod->proxy = SpawnInPod(*pod, proxy, kProxyUid, pod->spec.name + ".proxy.log");
      if (!pod->proxy) return Fail("cannot start the sidecar of " + pod->spec.name);
    }
    std::vector<std::string> app;
    std::string ready_line;
    if (pod->spec.kind == AppKind::kHttpBackend) {
      app = {MeshBinDir() + "/cmesh-demo-backend", "--listen", "0.0.0.0:" + std::to_string(pod->spec.port),
             "--service", pod->spec.app, "--version", pod->spec.version};
      ready_line = "backend listening on";
    } else if (pod->spec.kind == AppKind::kGrpcEcho) {
      app = {GrpcEchoBinary(), "serve", "--port", std::to_string(pod->spec.port), "--name", pod->spec.name};
      ready_line = "echo listening on";
    }
    if (!app.empty()) {
      app.insert(app.end(), pod->spec.app_flags.begin(), pod->spec.app_flags.end());
      pod->app = SpawnInPod(*pod, app, std::nullopt, pod->spec.name + ".app.log");
      if (!pod->app) return Fail("cannot start the app of " + pod->spec.name);
      for (auto deadline = Clock::now() + std::chrono::seconds(20);;) {
        if (pod->app->Log().find(ready_line) != std::string::npos) break;
        if (!pod->app->running() || Clock::now() > deadline) return Fail(pod->spec.name + "'s app did not start");
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }
  // Every sidecar ready: 15021 answers 200 once a complete configuration arrived.
  for (const auto& pod : pods_) {
    if (!pod->spec.sidecar) continue;
    for (auto deadline = Clock::now() + std::chrono::seconds(30);;) {
      if (HttpGetFromHost(pod->spec.name, 15021, "/healthz/ready")) break;
      if (!pod->proxy->running() || Clock::now() > deadline) {
        return Fail(pod->spec.name + "'s sidecar did not become ready");
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  return true;
}

std::unique_ptr<Child> Mesh::SpawnInPod(const Pod& pod, const std::vector<std::string>& argv_in,
                                        std::optional<unsigned> uid, const std::string& log_name) const {
  const std::string log = work_dir_ + "/logs/" + log_name;
  const std::string netns_path = "/run/netns/" + pod.netns;
  std::vector<std::string> argv = argv_in;
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "setns %s: %s\n", netns_path.c_str(), std::strerror(errno));
      _exit(127);
    }
    if (uid) {
      if (setgroups(0, nullptr) != 0 || setresgid(*uid, *uid, *uid) != 0 || setresuid(*uid, *uid, *uid) != 0) {
        std::fprintf(stderr, "setresuid %u: %s\n", *uid, std::strerror(errno));
        _exit(127);
      }
    }
    // After the credential change, which clears it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    auto args = Argv(argv);
    execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  if (pid < 0) return nullptr;
  return std::make_unique<Child>(pid, log);
}

CommandResult Mesh::Exec(const std::string& pod, const std::vector<std::string>& argv,
                         std::optional<unsigned> uid, milliseconds timeout) const {
  std::vector<std::string> full = {"ip", "netns", "exec", Netns(pod)};
  if (uid) {
    full.insert(full.end(), {"setpriv", "--reuid", std::to_string(*uid), "--regid", std::to_string(*uid),
                             "--clear-groups"});
  }
  full.insert(full.end(), argv.begin(), argv.end());
  return Run(full, timeout);
}

std::unique_ptr<Child> Mesh::Start(const std::string& pod, const std::vector<std::string>& argv,
                                   std::optional<unsigned> uid) const {
  static int counter = 0;
  const std::string log = work_dir_ + "/logs/command-" + std::to_string(counter++) + ".log";
  std::vector<std::string> full = {"ip", "netns", "exec", Netns(pod)};
  if (uid) {
    full.insert(full.end(), {"setpriv", "--reuid", std::to_string(*uid), "--regid", std::to_string(*uid),
                             "--clear-groups"});
  }
  full.insert(full.end(), argv.begin(), argv.end());
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    auto args = Argv(full);
    execvp(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return nullptr;
  return std::make_unique<Child>(pid, log);
}

std::optional<std::string> Mesh::HttpGetFromHost(const std::string& pod, int port, const std::string& path) const {
  auto answer = HttpGet(PodIp(pod), port, path);
  if (!answer || answer->first != 200) return std::nullopt;
  return answer->second;
}

std::string Mesh::Metrics(const std::string& pod) const {
  return HttpGetFromHost(pod, 15090, "/stats/prometheus").value_or("");
}

void Mesh::WriteConfig(const std::string& file, const std::string& yaml) const {
  // A dot file is not read by the pilot; the rename makes the change one inotify event.
  const std::string temp = ConfigDir() + "/." + file + ".tmp";
  std::ofstream(temp, std::ios::trunc) << yaml;
  fs::rename(temp, ConfigDir() + "/" + file);
}

void Mesh::KillPod(const std::string& name) {
  for (auto& pod : pods_) {
    if (pod->spec.name != name) continue;
    if (pod->app) pod->app->Kill();
    if (pod->proxy) pod->proxy->Kill();
  }
}

std::string Mesh::Logs() const {
  std::string text;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(work_dir_ + "/logs", ec)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    text += "---- " + file.filename().string() + " (last lines)\n" + Tail(ReadFileText(file.string()), 15);
    if (!text.empty() && text.back() != '\n') text += '\n';
  }
  return text;
}

std::string Mesh::ServicesYaml() const {
  std::string yaml = "apiVersion: v1\nkind: List\nitems:\n";
  for (const auto& service : options_.services) {
    yaml += "- apiVersion: v1\n  kind: Service\n  metadata: {name: " + service.name +
            ", namespace: default, labels: {app: " + service.name + "}}\n  spec:\n    clusterIP: " +
            ClusterIp(service.name) + "\n    selector: {app: " + service.name + "}\n    ports: [{name: " +
            service.port_name + ", port: " + std::to_string(service.port) +
            ", targetPort: " + std::to_string(service.port) + "}]\n";
  }
  return yaml;
}

std::string Mesh::PodsYaml() const {
  std::string yaml = "apiVersion: v1\nkind: List\nitems:\n";
  for (const auto& pod : pods_) {
    yaml += "- apiVersion: v1\n  kind: Pod\n  metadata: {name: " + pod->spec.name +
            ", namespace: default, labels: {app: " + pod->spec.app + ", version: " + pod->spec.version +
            "}}\n  spec: {containers: [{name: " + pod->spec.app + ", image: cmesh/mesh-test, ports: [{name: " +
            pod->spec.port_name + ", containerPort: " + std::to_string(pod->spec.port) +
            "}]}]}\n  status: {phase: Running, conditions: [{type: Ready, status: \"True\"}], podIP: " + pod->ip +
            "}\n";
  }
  return yaml;
}

Mesh::~Mesh() {
  for (auto& pod : pods_) {
    if (pod->app) pod->app->Kill();
    if (pod->proxy) pod->proxy->Kill();
  }
  if (pilot_) pilot_->Kill();
  std::error_code ec;
  for (const auto& netns : created_netns_) {
    KillNetnsProcesses(netns);  // anything a command left running in the pod
    Run({"ip", "netns", "del", netns});  // takes the pod's veth end, and so the pair, with it
    fs::remove_all("/etc/netns/" + netns, ec);
  }
  if (bridge_created_) Run({"ip", "link", "del", bridge_});
  // Host veth ends whose namespace deletion did not take them (it normally does).
  for (std::size_t i = 0; i < options_.pods.size(); ++i) {
    const std::string host_end = kVethPrefix + tag_ + "p" + std::to_string(i);
    if (access(("/sys/class/net/" + host_end).c_str(), F_OK) == 0) Run({"ip", "link", "del", host_end});
  }
  if (!work_dir_.empty() && std::getenv("CMESH_MESH_KEEP_LOGS") == nullptr) fs::remove_all(work_dir_, ec);
}

// ---- helpers ----

double MetricSum(const std::string& exposition, const std::string& metric,
                 const std::map<std::string, std::string>& labels) {
  double sum = 0;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, metric.size(), metric) != 0) continue;
    std::size_t at = metric.size();
    std::map<std::string, std::string> found;
    if (at < line.size() && line[at] == '{') {
      ++at;
      while (at < line.size() && line[at] != '}') {
        const std::size_t eq = line.find('=', at);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string name = line.substr(at, eq - at), value;
        std::size_t i = eq + 2;
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          value += line[i];
        }
        found[name] = value;
        at = i + 1;
        if (at < line.size() && line[at] == ',') ++at;
      }
      if (at >= line.size()) continue;
      ++at;
    } else if (at >= line.size() || line[at] != ' ') {
      continue;  // another metric whose name starts with this one
    }
    bool match = true;
    for (const auto& [name, value] : labels) {
      auto it = found.find(name);
      match = match && it != found.end() && it->second == value;
    }
    if (match) sum += std::strtod(line.c_str() + at, nullptr);
  }
  return sum;
}

}  // namespace cmesh::mesh_test
