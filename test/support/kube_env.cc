#include "kube_env.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "test_paths.h"

extern char** environ;

namespace cmesh::testing {

std::string KubeDir() {
  const char* dir = std::getenv("CMESH_KUBE_DIR");
  return dir && *dir ? dir : "/tmp/cmesh-kube";
}

std::string KubeconfigPath() { return KubeDir() + "/kubeconfig"; }

std::string PilotKubeconfigPath() { return KubeDir() + "/pilot.kubeconfig"; }

std::string KubeBin(const std::string& name) { return KubeDir() + "/bin/" + name; }

bool KubeAvailable() {
  // kube-up writes pilot.kubeconfig and env last, after the server answered /readyz.
  return std::filesystem::exists(KubeDir() + "/env") &&
         std::filesystem::exists(PilotKubeconfigPath()) && ::access(KubeBin("kubectl").c_str(), X_OK) == 0;
}

namespace {

std::vector<std::string> Environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& o : overrides) replaced = replaced || o.substr(0, o.find('=')) == key;
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv_in, const CommandOptions& options) {
  CommandResult result;
  if (argv_in.empty()) return result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  std::vector<std::string> argv_strings = argv_in;
  std::vector<std::string> env_strings = Environment(options.env);
  std::vector<char*> argv = Pointers(argv_strings);
  std::vector<char*> envp = Pointers(env_strings);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = "cannot start " + argv_in[0] + ": " + std::strerror(rc);
    return result;
  }

  // Feed stdin and drain both outputs together, so that no pipe fills up and blocks the child.
  ::signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (options.stdin_text.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timed_out = false;
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = ::write(in_fd, options.stdin_text.data() + written, options.stdin_text.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = options.stdin_text.size();
        if (written == options.stdin_text.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        (fds[i].fd == out_fd ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(fds[i].fd);
        (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    result.err += "\n[" + argv_in[0] + " killed after " + std::to_string(options.timeout.count()) + " s]";
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

CommandResult RunKubectlAs(const std::string& kubeconfig, const std::vector<std::string>& args,
                           const std::string& stdin_text) {
  std::vector<std::string> argv = {KubeBin("kubectl"), "--kubeconfig", kubeconfig};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.stdin_text = stdin_text;
  return RunCommand(argv, options);
}

CommandResult RunKubectl(const std::vector<std::string>& args, const std::string& stdin_text) {
  return RunKubectlAs(KubeconfigPath(), args, stdin_text);
}

std::string InstallCrds() {
  const std::string dir = SourceDir() + "/crds/";
  CommandResult apply;
  // Two tests applying at once may both try to create a CRD; the loser's apply fails with
  // AlreadyExists, and a second apply (now an update with no change) succeeds.
  for (int attempt = 0; attempt < 3; ++attempt) {
    apply = RunKubectl({"apply", "-f", dir});
    if (apply.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (apply.exit_code != 0) return "kubectl apply -f " + dir + " failed: " + apply.err;
  // Polled rather than `kubectl wait`, which fails instead of waiting while a new CRD has no
  // conditions yet.
  for (const std::string crd : {"virtualservices.networking.istio.io", "destinationrules.networking.istio.io"}) {
    CommandResult established;
    for (int i = 0; i < 600; ++i) {
      established = RunKubectl({"get", "crd", crd, "-o", "jsonpath={.status.conditions[?(@.type==\"Established\")].status}"});
      if (established.exit_code == 0 && established.out == "True") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (established.out != "True") return crd + " not Established: " + established.out + established.err;
  }
  return "";
}

namespace {

// A DNS-1123 label: lower case, digits and '-', at most 63 characters.
std::string NamespaceName() {
  std::string base = "t";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    base += std::string("-") + info->test_suite_name() + "-" + info->name();
  }
  std::string name;
  for (char c : base) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += std::isalnum(static_cast<unsigned char>(l)) ? l : '-';
  }
  name = name.substr(0, 52);
  while (!name.empty() && name.back() == '-') name.pop_back();
  // A namespace of an earlier run may still exist (deletion never finishes here): add randomness.
  std::random_device rd;
  const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  name += "-";
  for (int i = 0; i < 10; ++i) name += digits[rd() % 36];
  return name;
}

}  // namespace

KubeNamespace::KubeNamespace() : name_(NamespaceName()) {
  CommandResult r = RunKubectl({"create", "namespace", name_});
  if (r.exit_code != 0) error_ = "kubectl create namespace " + name_ + ": " + r.err;
}

KubeNamespace::~KubeNamespace() {
  if (!error_.empty()) return;
  // No garbage collector or namespace controller runs here: delete the contents explicitly.
  RunKubectl({"delete", "--all", "--ignore-not-found", "--wait=false", "-n", name_,
              "services,endpointslices.discovery.k8s.io,pods,configmaps,secrets,serviceaccounts,"
              "roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,"
              "leases.coordination.k8s.io"});
  // Separately: this fails harmlessly when the CRDs are not installed.
  RunKubectl({"delete", "--all", "--ignore-not-found", "--wait=false", "-n", name_,
              "virtualservices.networking.istio.io,destinationrules.networking.istio.io"});
  RunKubectl({"delete", "namespace", name_, "--wait=false"});
}

}  // namespace cmesh::testing
