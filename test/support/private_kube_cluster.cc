#include "private_kube_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_paths.h"

namespace cmesh::testing {

constexpr char kDirPrefix[] = "cmesh-private-kube-";

PrivateKubeCluster::PrivateKubeCluster() : dir_("/tmp/" + std::string(kDirPrefix) + std::to_string(getpid())) {
  SweepDeadRuns();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  CommandResult up = RunCommand({SourceDir() + "/scripts/kube-up"}, Options(dir_, std::chrono::seconds(900)));
  if (up.exit_code != 0) error_ = "kube-up: " + up.err + up.out;
}

PrivateKubeCluster::~PrivateKubeCluster() { Down(dir_); }

CommandResult PrivateKubeCluster::Kubectl(std::vector<std::string> args, const std::string& stdin_text) const {
  args.insert(args.begin(), {KubeBin("kubectl"), "--kubeconfig", Path("kubeconfig")});
  CommandOptions options = Options(dir_, std::chrono::seconds(60));
  options.stdin_text = stdin_text;
  return RunCommand(args, options);
}

CommandResult PrivateKubeCluster::Helm(std::vector<std::string> args) const {
  args.insert(args.begin(), KubeBin("helm"));
  args.insert(args.end(), {"--kubeconfig", Path("kubeconfig")});
  CommandOptions options = Options(dir_, std::chrono::seconds(180));
  for (const char* home : {"CACHE", "CONFIG", "DATA"}) {
    options.env.push_back(std::string("HELM_") + home + "_HOME=" + Path(std::string("helm-") + home));
  }
  return RunCommand(args, options);
}

bool PrivateKubeCluster::Exists(const std::string& kind, const std::string& name, const std::string& ns) const {
  std::vector<std::string> args = {"get", kind, name, "-o", "name"};
  if (!ns.empty()) args.insert(args.end(), {"-n", ns});
  return Kubectl(args).exit_code == 0;
}

bool PrivateKubeCluster::PilotCan(std::vector<std::string> args) const {
  args.insert(args.begin(), {"auth", "can-i", "--as", "system:serviceaccount:istio-system:cmesh-pilot"});
  return Kubectl(args).out.rfind("yes", 0) == 0;
}

nlohmann::json PrivateKubeCluster::GetJson(const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"get"};
  full.insert(full.end(), args.begin(), args.end());
  full.insert(full.end(), {"-o", "json"});
  CommandResult r = Kubectl(full);
  return r.exit_code == 0 ? nlohmann::json::parse(r.out, nullptr, false) : nlohmann::json();
}

CommandOptions PrivateKubeCluster::Options(const std::string& dir, std::chrono::seconds timeout) {
  CommandOptions options;
  options.env = {"CMESH_KUBE_DIR=" + dir};
  options.timeout = timeout;
  return options;
}

void PrivateKubeCluster::Down(const std::string& dir) {
  RunCommand({SourceDir() + "/scripts/kube-down"}, Options(dir, std::chrono::seconds(120)));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove(dir + ".lock", ec);  // kube-up's lock file, beside the directory
}

void PrivateKubeCluster::SweepDeadRuns() {
  std::error_code ec;
  const std::string prefix = kDirPrefix;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !entry.is_directory()) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + prefix.size()));
    if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    const std::string dir = entry.path().string() + "/";
    for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
      std::ifstream in(proc.path() / "cmdline", std::ios::binary);
      const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (cmdline.find(dir) != std::string::npos) {
        kill(static_cast<pid_t>(std::atol(proc.path().filename().c_str())), SIGKILL);
      }
    }
    Down(entry.path().string());
  }
}

const std::vector<std::tuple<std::string, std::string, std::string>>& CmeshChartObjects() {
  static const std::vector<std::tuple<std::string, std::string, std::string>> objects = {
      {"customresourcedefinition", "virtualservices.networking.istio.io", ""},
      {"customresourcedefinition", "destinationrules.networking.istio.io", ""},
      {"clusterrole", "cmesh-pilot", ""},
      {"clusterrolebinding", "cmesh-pilot", ""},
      {"role", "cmesh-pilot", "istio-system"},
      {"rolebinding", "cmesh-pilot", "istio-system"},
      {"serviceaccount", "cmesh-pilot", "istio-system"},
      {"deployment", "cmesh-pilot", "istio-system"},
      {"service", "cmesh-pilot", "istio-system"},
      {"configmap", "cmesh-sidecar-injector", "istio-system"},
      {"configmap", "istio", "istio-system"},
      {"poddisruptionbudget", "cmesh-pilot", "istio-system"},
      {"mutatingwebhookconfiguration", "cmesh-sidecar-injector", ""},
      {"validatingwebhookconfiguration", "cmesh-validator", ""},
  };
  return objects;
}

}  // namespace cmesh::testing
