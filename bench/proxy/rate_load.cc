#include "rate_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <deque>
#include <memory>

#include "response_reader.h"

namespace cmesh::bench {
namespace {

std::int64_t NowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Connection {
  int fd = -1;
  bool busy = false;
  std::int64_t due_ns = 0;  // of the request in flight
  std::string in;
  ResponseReader reader;
};

class RateLoad {
 public:
  explicit RateLoad(const RateLoadOptions& options) : options_(options) {
    request_ = "GET " + options.path + " HTTP/1.1\r\nHost: " + options.host + "\r\nUser-Agent: cmesh-http-rate\r\n\r\n";
  }
  ~RateLoad() {
    for (auto& c : connections_) {
      if (c->fd >= 0) ::close(c->fd);
    }
    if (timer_ >= 0) ::close(timer_);
    if (epoll_ >= 0) ::close(epoll_);
  }

  RateLoadResult Run();

 private:
  bool Connect(Connection& c);
  void Fail(Connection& c);
  void Send(Connection& c, std::int64_t due_ns);
  void OnReadable(Connection& c);
  void Dispatch();
  void ArmTimer(std::int64_t at_ns);

  const RateLoadOptions& options_;
  std::string request_;
  sockaddr_in address_{};
  int epoll_ = -1;
  int timer_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  std::deque<std::int64_t> queue_;  // due times of requests waiting for a connection
  std::int64_t record_from_ns_ = 0;
  std::uint64_t in_flight_ = 0;
  RateLoadResult result_;
};

bool RateLoad::Connect(Connection& c) {
  // A blocking connect on loopback is immediate; the socket turns non-blocking afterwards.
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return false;
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0) {
    ::close(c.fd);
    c.fd = -1;
    return false;
  }
  const int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = &c;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &event);
  c.busy = false;
  c.in.clear();
  c.reader.Reset();
  idle_.push_back(&c);
  return true;
}

// The connection broke or was closed: its request in flight (if any) is lost, and a new
// connection takes its place.
void RateLoad::Fail(Connection& c) {
  if (c.busy) {
    ++result_.errors;
    --in_flight_;
  }
  ::close(c.fd);  // also leaves the epoll set
  c.fd = -1;
  ++result_.reconnects;
  if (!Connect(c)) ++result_.errors;  // this slot stays dead; the others carry on
}

void RateLoad::Send(Connection& c, std::int64_t due_ns) {
  c.busy = true;
  c.due_ns = due_ns;
  ++in_flight_;
  const ssize_t n = ::send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL);
  // The connection is idle (its last answer was read whole), so its send buffer is empty: a
  // short write here means the connection is broken.
  if (n != static_cast<ssize_t>(request_.size())) Fail(c);
}

void RateLoad::OnReadable(Connection& c) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      c.in.append(buffer, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Fail(c);  // EOF or reset
    return;
  }
  if (!c.busy) {
    Fail(c);  // bytes nobody asked for
    return;
  }
  std::size_t length = 0;
  const ResponseReader::Result parsed = c.reader.Parse(c.in, &length);
  if (parsed == ResponseReader::Result::kNeedMore) return;
  if (parsed == ResponseReader::Result::kError || length != c.in.size()) {
    Fail(c);
    return;
  }
  const std::int64_t now = NowNs();
  ++result_.completed;
  if (c.reader.status() < 200 || c.reader.status() > 299) ++result_.non_2xx;
  if (c.due_ns >= record_from_ns_) result_.latencies_ns.push_back(now - c.due_ns);
  --in_flight_;
  c.busy = false;
  if (!c.reader.keep_alive()) {
    ::close(c.fd);
    c.fd = -1;
    ++result_.reconnects;
    if (!Connect(c)) ++result_.errors;
    return;
  }
  c.in.clear();
  c.reader.Reset();
  idle_.push_back(&c);
}

void RateLoad::Dispatch() {
  while (!queue_.empty() && !idle_.empty()) {
    Connection* c = idle_.back();
    idle_.pop_back();
    if (c->fd < 0 || c->busy) continue;
    const std::int64_t due = queue_.front();
    queue_.pop_front();
    Send(*c, due);
  }
}

void RateLoad::ArmTimer(std::int64_t at_ns) {
  itimerspec spec{};
  spec.it_value.tv_sec = at_ns / 1'000'000'000;
  spec.it_value.tv_nsec = at_ns % 1'000'000'000;
  ::timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

RateLoadResult RateLoad::Run() {
  address_.sin_family = AF_INET;
  address_.sin_port = htons(options_.port);
  if (::inet_pton(AF_INET, options_.address.c_str(), &address_.sin_addr) != 1) {
    result_.fatal = "not an IPv4 address: " + options_.address;
    return std::move(result_);
  }
  // The timer fires when it is due, not up to 50 us later (the default slack of a normal thread):
  // the latencies start from the due time, so a late wake-up would count against the server.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event timer_event{};
  timer_event.events = EPOLLIN;
  timer_event.data.ptr = nullptr;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &timer_event);

  for (int i = 0; i < options_.connections; ++i) {
    connections_.push_back(std::make_unique<Connection>());
    if (!Connect(*connections_.back())) {
      result_.fatal = "cannot connect to " + options_.address + ":" + std::to_string(options_.port);
      return std::move(result_);
    }
  }

  const double period_ns = 1e9 / options_.rate;
  const std::int64_t start = NowNs() + 10'000'000;  // connections settle first
  record_from_ns_ = start + options_.warmup.count();
  const auto total = static_cast<std::uint64_t>(
      std::llround(options_.rate * static_cast<double>((options_.warmup + options_.duration).count()) / 1e9));
  result_.scheduled = total;
  result_.latencies_ns.reserve(static_cast<std::size_t>(total));
  const auto due = [&](std::uint64_t k) { return start + static_cast<std::int64_t>(std::llround(period_ns * static_cast<double>(k))); };
  const std::int64_t give_up = due(total) + options_.drain.count();

  std::uint64_t next = 0;
  epoll_event events[64];
  for (;;) {
    const std::int64_t now = NowNs();
    while (next < total && due(next) <= now) queue_.push_back(due(next++));
    if (queue_.size() > result_.max_queue) result_.max_queue = queue_.size();
    Dispatch();
    if (next == total && queue_.empty() && in_flight_ == 0) break;
    if (now >= give_up) {
      result_.errors += queue_.size() + in_flight_;  // never answered within the drain time
      break;
    }
    ArmTimer(next < total ? due(next) : give_up);
    const int n = ::epoll_wait(epoll_, events, 64, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] const ssize_t ignored = ::read(timer_, &expirations, sizeof expirations);
        continue;
      }
      auto* c = static_cast<Connection*>(events[i].data.ptr);
      if (c->fd >= 0) OnReadable(*c);
    }
  }
  result_.measured_seconds = static_cast<double>(options_.duration.count()) / 1e9;
  return std::move(result_);
}

}  // namespace

RateLoadResult RunRateLoad(const RateLoadOptions& options) { return RateLoad(options).Run(); }

}  // namespace cmesh::bench
