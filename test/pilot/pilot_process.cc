#include "pilot_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <thread>

#include "test_paths.h"

extern char** environ;

namespace cmesh::testing {

PilotProcess::PilotProcess(const std::vector<std::string>& args) : PilotProcess("cmesh-pilot", args) {}

PilotProcess::PilotProcess(const std::string& binary_name, const std::vector<std::string>& args) {
  char log_template[] = "/tmp/cmesh_pilot_log_XXXXXX";
  int fd = ::mkstemp(log_template);
  if (fd < 0) return;
  ::close(fd);
  log_path_ = log_template;
  std::string binary = BinDir() + "/" + binary_name;
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_APPEND, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_APPEND, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
}

PilotProcess::~PilotProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

std::string PilotProcess::Log() const { return log_path_.empty() ? "" : ReadFile(log_path_); }

std::optional<int> PilotProcess::WaitForPort(const std::string& what, std::chrono::milliseconds timeout) const {
  const std::regex pattern(what + " listening on [0-9a-fA-F.:]+:([0-9]+)");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    std::string log = Log();
    if (std::regex_search(log, match, pattern)) return std::stoi(match[1].str());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

std::optional<int> PilotProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

std::optional<int> PilotProcess::SignalAndWait(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, signal);
  return Wait(timeout);
}

HttpResult RawHttp(int port, const std::string& raw, const std::string& host) {
  HttpResult result;
  sockaddr_storage storage{};
  socklen_t size = 0;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&storage); ::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    size = sizeof(sockaddr_in);
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
             ::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    size = sizeof(sockaddr_in6);
  } else {
    return result;
  }
  int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return result;
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), size) != 0) {
    ::close(fd);
    return result;
  }
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  std::string answer;
  char buffer[8192];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) answer.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  std::smatch match;
  if (!std::regex_search(answer, match, std::regex("^HTTP/1\\.1 ([0-9]{3}) "))) return result;
  result.status = std::stoi(match[1].str());
  auto body = answer.find("\r\n\r\n");
  if (body != std::string::npos) result.body = answer.substr(body + 4);
  return result;
}

HttpResult HttpGet(int port, const std::string& target, const std::string& host) {
  return RawHttp(port, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n", host);
}

}  // namespace cmesh::testing
