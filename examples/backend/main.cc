// cmesh-demo-backend --listen ADDR:PORT --service NAME --version V [--workers N] [--body-bytes N]
//
// A small HTTP/1.1 server answering every request with 200 and either a JSON description of the
// request (service, version, method, path, headers) or N bytes (for benchmarks). It prints
// "backend listening on ADDR:PORT" once bound (port 0 picks one) and exits 0 on SIGTERM/SIGINT.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backend_connection.h"
#include "cmesh/event/socket.h"

namespace {

using cmesh::event::Endpoint;

struct Flags {
  Endpoint listen{"127.0.0.1", 8080};
  cmesh::demo::BackendOptions backend;
  int workers = 1;
};

constexpr char kUsage[] =
    "usage: cmesh-demo-backend --listen ADDR:PORT [--service NAME] [--version V] [--workers N]\n"
    "                          [--body-bytes N]\n";

bool ParseEndpoint(std::string_view text, Endpoint* out) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string_view digits = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || port > 65535 || host.empty()) return false;
  *out = Endpoint{std::string(host), static_cast<std::uint16_t>(port)};
  return true;
}

bool ParseCount(std::string_view text, std::size_t max, std::size_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && *out <= max;
}

bool ParseFlags(int argc, char** argv, Flags* flags, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (i + 1 >= argc) {
      *error = name + " needs a value";
      return false;
    }
    const std::string value = argv[++i];
    std::size_t n = 0;
    if (name == "--listen") {
      if (!ParseEndpoint(value, &flags->listen)) {
        *error = "--listen: not ADDR:PORT: " + value;
        return false;
      }
    } else if (name == "--service") {
      flags->backend.service = value;
    } else if (name == "--version") {
      flags->backend.version = value;
    } else if (name == "--workers") {
      if (!ParseCount(value, 64, &n) || n == 0) {
        *error = "--workers: 1 to 64";
        return false;
      }
      flags->workers = static_cast<int>(n);
    } else if (name == "--body-bytes") {
      if (!ParseCount(value, 64 << 20, &n)) {
        *error = "--body-bytes: 0 to 64 MiB";
        return false;
      }
      flags->backend.body_bytes = n;
    } else {
      *error = "unknown flag " + name;
      return false;
    }
  }
  return true;
}

// One worker: its own loop and listener (SO_REUSEPORT spreads connections over the workers).
class Acceptor final : public cmesh::event::IoWatcher {
 public:
  Acceptor(cmesh::event::EventLoop& loop, int fd, const cmesh::demo::BackendOptions& options)
      : loop_(loop), fd_(fd), options_(options) {}
  void OnReady(std::uint32_t) override {
    for (int fd; (fd = cmesh::event::AcceptTcp(fd_, nullptr)) >= 0;) cmesh::demo::BackendConnection::Start(loop_, fd, options_);
  }

 private:
  cmesh::event::EventLoop& loop_;
  int fd_;
  const cmesh::demo::BackendOptions& options_;
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &error)) {
    std::fprintf(stderr, "cmesh-demo-backend: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::unique_ptr<cmesh::event::EventLoop>> loops;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::vector<int> listeners;
  Endpoint at = flags.listen;
  for (int i = 0; i < flags.workers; ++i) {
    const int fd = cmesh::event::ListenTcp(at, /*reuse_port=*/flags.workers > 1, &error);
    if (fd < 0) {
      std::fprintf(stderr, "cmesh-demo-backend: %s\n", error.c_str());
      return 1;
    }
    if (i == 0) at = *cmesh::event::LocalEndpoint(fd);  // the others bind the port the first got
    listeners.push_back(fd);
    loops.push_back(std::make_unique<cmesh::event::EventLoop>());
    acceptors.push_back(std::make_unique<Acceptor>(*loops.back(), fd, flags.backend));
    loops.back()->Add(fd, false, acceptors.back().get());
  }
  std::printf("backend listening on %s\n", at.ToString().c_str());
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (auto& loop : loops) threads.emplace_back([&loop] { loop->Run(); });
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  for (auto& loop : loops) loop->Stop();
  for (auto& thread : threads) thread.join();
  return 0;
}
