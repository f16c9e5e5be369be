// The host side of the mesh fixture: running commands with a bound, the lock that serialises
// concurrent runs' use of the host, and finding and removing what runs left behind.
#include "mesh_host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
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

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(const std::string& text, int lines) {
  std::size_t at = text.size();
  for (int i = 0; i <= lines && at != std::string::npos && at > 0; ++i) at = text.rfind('\n', at - 1);
  return at == std::string::npos || at == 0 ? text : text.substr(at + 1);
}

bool InPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

void WriteAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::vector<char*> Argv(std::vector<std::string>& words) {
  std::vector<char*> args;
  for (auto& word : words) args.push_back(word.data());
  args.push_back(nullptr);
  return args;
}

// Runs argv (PATH lookup) with its output collected, killed after `timeout`.
CommandResult Run(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // A bounded command, but still: never outlive the test.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    auto args = Argv(argv);
    execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_pipes = 2;
  while (open_pipes > 0) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) && !result.timed_out ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Describe(const std::vector<std::string>& argv, const CommandResult& result) {
  std::string text;
  for (const auto& word : argv) text += word + " ";
  return text + "→ exit " + std::to_string(result.exit_code) + (result.timed_out ? " (timed out)" : "") + ": " +
         result.out + result.err;
}

namespace {

// The creator of a leftover is gone: no such process, or a zombie nobody reaped yet.
bool PidGone(const std::string& digits) {
  if (kill(static_cast<pid_t>(std::stol(digits)), 0) != 0 && errno == ESRCH) return true;
  const std::string stat = ReadFileText("/proc/" + digits + "/stat");
  const std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

}  // namespace

HostLock::HostLock() {
  fd_ = open("/run/lock/cmesh-mesh.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) fd_ = open("/tmp/cmesh-mesh.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ >= 0) flock(fd_, LOCK_EX);
}

HostLock::~HostLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock
}

void KillNetnsProcesses(const std::string& netns) {
  CommandResult pids = Run({"ip", "netns", "pids", netns});
  std::istringstream lines(pids.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) kill(static_cast<pid_t>(std::stol(line)), SIGKILL);
  }
}

// What dead runs left: namespaces (and their processes), bridges and veths, /etc/netns dirs.
void SweepLeftovers() {
  static const std::regex netns_name(std::string("^(") + kNetnsPrefix + R"((\d+)-[a-z0-9-]+)\b)");
  CommandResult listed = Run({"ip", "netns", "list"});
  std::istringstream names(listed.out);
  std::string line;
  while (std::getline(names, line)) {
    std::smatch match;
    if (std::regex_search(line, match, netns_name) && PidGone(match[2])) {
      KillNetnsProcesses(match[1]);
      Run({"ip", "netns", "del", match[1]});
    }
  }
  static const std::regex link_name(std::string("^\\d+: ((?:") + kBridgePrefix + "|" + kVethPrefix +
                                    R"()(\d+)(?:[pq]\d+)?)[@:])");
  CommandResult links = Run({"ip", "-o", "link", "show"});
  std::istringstream link_lines(links.out);
  while (std::getline(link_lines, line)) {
    std::smatch match;
    if (std::regex_search(line, match, link_name) && PidGone(match[2])) Run({"ip", "link", "del", match[1]});
  }
  std::error_code ec;
  static const std::regex dir_name(std::string("^") + kNetnsPrefix + R"((\d+)-)");
  for (const char* parent : {"/etc/netns", "/tmp"}) {  // hosts files; work dirs with the logs
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
      const std::string name = entry.path().filename().string();
      std::smatch match;
      if (std::regex_search(name, match, dir_name) && PidGone(match[1])) fs::remove_all(entry.path(), ec);
    }
  }
}

std::vector<std::string> LeftoversOf(pid_t pid) {
  std::vector<std::string> left;
  const std::string tag = std::to_string(pid);
  std::istringstream names(Run({"ip", "netns", "list"}).out);
  std::string line;
  while (std::getline(names, line)) {
    if (line.rfind(kNetnsPrefix + tag + "-", 0) == 0) left.push_back("netns " + line);
  }
  std::istringstream links(Run({"ip", "-o", "link", "show"}).out);
  const std::regex ours(std::string("^\\d+: ((?:") + kBridgePrefix + "|" + kVethPrefix + ")" + tag +
                        R"((?:[pq]\d+)?)[@:])");
  while (std::getline(links, line)) {
    std::smatch match;
    if (std::regex_search(line, match, ours)) left.push_back("link " + std::string(match[1]));
  }
  std::error_code ec;
  for (const char* parent : {"/etc/netns", "/tmp"}) {
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
      if (entry.path().filename().string().rfind(kNetnsPrefix + tag + "-", 0) == 0) {
        left.push_back("dir " + entry.path().string());
      }
    }
  }
  return left;
}

}  // namespace cmesh::mesh_test
