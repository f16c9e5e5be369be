#include "netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace cmesh::proxy_init::testing {
namespace {

bool InPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

bool EnterNetns(const std::string& name) {
  int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = setns(fd, CLONE_NEWNET) == 0;
  close(fd);
  return ok;
}

void WriteAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[512];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) text.append(buffer, static_cast<std::size_t>(n));
  return text;
}

// The original destination port of an accepted IPv4 connection NAT redirected, else its local port.
int DestinationPort(int fd) {
  sockaddr_in original{};
  socklen_t length = sizeof(original);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &original, &length) == 0) {
    return ntohs(original.sin_port);
  }
  sockaddr_storage local{};
  length = sizeof(local);
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
  if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
}

}  // namespace

std::optional<std::string> NetnsUnavailableReason() {
  if (geteuid() != 0) return "not root: network namespaces and iptables need root";
  for (const char* tool : {"ip", "iptables-save", "iptables-restore"}) {
    if (!InPath(tool)) {
      return std::string(tool) +
             " not found in PATH (install the iproute2 and iptables packages)";
    }
  }
  static std::optional<std::string> probe_result = [] {
    // Namespaces left by an earlier run that crashed (their creator's pid is gone) go first.
    ProcessResult listed = RunProcess({"ip", "netns", "list"}, "");
    std::istringstream names(listed.out);
    std::string line;
    static const std::regex ours(R"(^(cmesh-init-[a-z0-9-]+?-(\d+)-\d+)\b)");
    while (std::getline(names, line)) {
      std::smatch match;
      if (std::regex_search(line, match, ours) && kill(std::stoi(match[2]), 0) != 0 &&
          errno == ESRCH) {
        RunProcess({"ip", "netns", "del", match[1]}, "");
      }
    }
    std::string name = "cmesh-init-probe-" + std::to_string(getpid());
    ProcessResult added = RunProcess({"ip", "netns", "add", name}, "");
    if (added.spawn_errno != 0 || added.exit_code != 0) {
      return std::optional<std::string>("`ip netns add` failed: " + added.err);
    }
    RunProcess({"ip", "netns", "del", name}, "");
    return std::optional<std::string>();
  }();
  return probe_result;
}

ProcessResult MustRun(const std::vector<std::string>& argv) {
  ProcessResult result = RunProcess(argv, "");
  std::string command;
  for (const auto& word : argv) command += " " + word;
  EXPECT_EQ(result.spawn_errno, 0) << command;
  EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.out << result.err;
  return result;
}

NetNs::NetNs(const std::string& role) {
  static std::atomic<int> counter{0};
  name_ = "cmesh-init-" + role + "-" + std::to_string(getpid()) + "-" +
          std::to_string(counter++);
  ProcessResult result = RunProcess({"ip", "netns", "add", name_}, "");
  created_ = result.spawn_errno == 0 && result.exit_code == 0;
  EXPECT_TRUE(created_) << "ip netns add " << name_ << ": " << result.err;
  if (created_) MustRun({"ip", "-n", name_, "link", "set", "lo", "up"});
}

NetNs::~NetNs() {
  if (created_) RunProcess({"ip", "netns", "del", name_}, "");
}

ProcessResult NetNs::Exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return RunProcess(full, "");
}

std::string NetNs::NatTable(bool ipv6) const {
  ProcessResult saved = Exec({ipv6 ? "ip6tables-save" : "iptables-save", "-t", "nat"});
  EXPECT_EQ(saved.exit_code, 0) << saved.err;
  std::istringstream lines(saved.out);
  std::string line, table;
  static const std::regex counters(R"( \[\d+:\d+\]$)");
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    table += std::regex_replace(line, counters, "") + "\n";
  }
  return table;
}

TagServer::TagServer(const NetNs& ns, const std::vector<std::pair<std::string, int>>& tagged_ports) {
  int ready_pipe[2];
  if (pipe2(ready_pipe, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    close(ready_pipe[0]);
    if (!EnterNetns(ns.name())) _exit(1);
    std::vector<std::pair<int, std::string>> listeners;
    for (const auto& [tag, port] : tagged_ports) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<std::uint16_t>(port));
      address.sin_addr.s_addr = htonl(INADDR_ANY);
      if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
          listen(fd, 16) != 0) {
        _exit(2);
      }
      listeners.emplace_back(fd, tag);
    }
    WriteAll(ready_pipe[1], "r");
    close(ready_pipe[1]);
    std::vector<pollfd> fds;
    for (const auto& listener : listeners) fds.push_back({listener.first, POLLIN, 0});
    while (true) {
      if (poll(fds.data(), fds.size(), -1) < 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        int connection = accept(fds[i].fd, nullptr, nullptr);
        if (connection < 0) continue;
        WriteAll(connection, listeners[i].second + ":" + std::to_string(DestinationPort(connection)));
        close(connection);
      }
    }
  }
  close(ready_pipe[1]);
  char byte = 0;
  ready_ = pid_ > 0 && read(ready_pipe[0], &byte, 1) == 1;
  close(ready_pipe[0]);
}

TagServer::~TagServer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string ConnectFrom(const NetNs& ns, const std::string& address, int port,
                        std::optional<unsigned> uid_gid) {
  int result_pipe[2];
  if (pipe2(result_pipe, O_CLOEXEC) != 0) return "error: pipe";
  pid_t pid = fork();
  if (pid == 0) {
    close(result_pipe[0]);
    auto fail = [&](const std::string& what) {
      WriteAll(result_pipe[1], "error: " + what + ": " + std::strerror(errno));
      _exit(0);
    };
    if (!EnterNetns(ns.name())) fail("setns");
    if (uid_gid) {
      if (setgroups(0, nullptr) != 0 || setgid(*uid_gid) != 0 || setuid(*uid_gid) != 0) {
        fail("setuid");
      }
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    // A bound on a hang, not a timing assertion: a connection that goes nowhere fails the test.
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, address.c_str(), &target.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof(target)) != 0) fail("connect");
    std::string answer = ReadAll(fd);
    if (answer.empty()) fail("read");
    WriteAll(result_pipe[1], answer);
    _exit(0);
  }
  close(result_pipe[1]);
  std::string answer = pid > 0 ? ReadAll(result_pipe[0]) : "error: fork";
  close(result_pipe[0]);
  if (pid > 0) waitpid(pid, nullptr, 0);
  return answer;
}

ProcessResult ExecWithoutNetAdmin(const NetNs& ns, const std::vector<std::string>& argv) {
  ProcessResult result;
  int err_pipe[2], status_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0 || pipe2(status_pipe, O_CLOEXEC) != 0) {
    result.spawn_errno = errno;
    return result;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(err_pipe[0]);
    close(status_pipe[0]);
    auto fail = [&] {
      int error = errno;
      WriteAll(status_pipe[1], std::string(reinterpret_cast<char*>(&error), sizeof(error)));
      _exit(127);
    };
    // Out of the bounding set, so the exec'd root programs do not get it back; out of the
    // inheritable and ambient sets too.
    if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) != 0) fail();
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) fail();
    const unsigned bit = 1u << (CAP_NET_ADMIN % 32);
    const int word = CAP_NET_ADMIN / 32;
    data[word].effective &= ~bit;
    data[word].permitted &= ~bit;
    data[word].inheritable &= ~bit;
    if (syscall(SYS_capset, &header, data) != 0) fail();
    dup2(err_pipe[1], 2);
    std::vector<std::string> full = {"ip", "netns", "exec", ns.name()};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& word_text : full) args.push_back(word_text.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    fail();
  }
  close(err_pipe[1]);
  close(status_pipe[1]);
  result.err = ReadAll(err_pipe[0]);
  std::string status = ReadAll(status_pipe[0]);
  close(err_pipe[0]);
  close(status_pipe[0]);
  if (status.size() == sizeof(int)) std::memcpy(&result.spawn_errno, status.data(), sizeof(int));
  int wait_status = 0;
  waitpid(pid, &wait_status, 0);
  result.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  return result;
}

}  // namespace cmesh::proxy_init::testing
