#include "tcp_proxy_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace cmesh::proxy_core {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

const TcpTarget& DrawCluster(const ChainAction& action, event::Random& random) {
  if (action.tcp_clusters.size() == 1) return action.tcp_clusters.front();
  std::uint64_t pick = random.Below(action.tcp_total_weight);
  for (const TcpTarget& target : action.tcp_clusters) {
    if (pick < target.weight) return target;
    pick -= target.weight;
  }
  return action.tcp_clusters.back();
}

}  // namespace

TcpProxyConnection::TcpProxyConnection(Worker& worker, int fd, TcpRecord record)
    : worker_(worker), record_(std::move(record)) {
  down_.fd = fd;
  start_ = last_activity_ = worker_.loop().now();
}

TcpProxyConnection::~TcpProxyConnection() {
  if (down_.fd >= 0) ::close(down_.fd);
  if (up_.fd >= 0) ::close(up_.fd);
}

void TcpProxyConnection::Start(Worker& worker, int fd, const DownstreamContext& context, const ChainAction& action,
                               std::string already_read) {
  TcpRecord record;
  record.inbound = context.inbound;
  auto* connection = new TcpProxyConnection(worker, fd, std::move(record));
  connection->up_.out = std::move(already_read);
  connection->record_.bytes_received = connection->up_.out.size();
  worker.Adopt(connection);
  if (!connection->Connect(context, action)) connection->Close();
}

void TcpProxyConnection::StartTunnel(Worker& worker, int downstream_fd, int upstream_fd, std::string to_upstream,
                                     std::string to_downstream, TcpRecord record,
                                     std::chrono::milliseconds idle_timeout) {
  auto* connection = new TcpProxyConnection(worker, downstream_fd, std::move(record));
  connection->up_.fd = upstream_fd;
  connection->up_.out = std::move(to_upstream);
  connection->down_.out = std::move(to_downstream);
  connection->idle_timeout_ = idle_timeout;
  worker.Adopt(connection);
  if (!worker.loop().Add(downstream_fd, false, connection) ||
      !worker.loop().Add(upstream_fd, false, &connection->upstream_watcher_)) {
    return connection->Close();
  }
  connection->down_.reading = connection->up_.reading = true;
  connection->Connected();
}

bool TcpProxyConnection::Connect(const DownstreamContext& context, const ChainAction& action) {
  const TcpTarget& target = DrawCluster(action, worker_.random());
  record_.cluster = target.cluster;
  idle_timeout_ = action.tcp_idle_timeout;
  report_ = true;
  if (worker_.options().on_tcp) worker_.options().on_tcp(record_, false);
  const ConfigSnapshotPtr& config = worker_.config();
  std::shared_ptr<const upstream::ClusterInfo> cluster = config ? config->SharedCluster(target.cluster) : nullptr;
  if (!cluster) {
    record_.flags = "NC";
    return false;
  }
  event::Endpoint destination;
  if (cluster->type == upstream::DiscoveryType::kOriginalDst) {
    // Passthrough: where the client was going. A connection that was not redirected has the
    // proxy itself as its destination: connecting there would loop.
    if (!context.redirected) {
      record_.flags = "UH";
      return false;
    }
    destination = context.original_destination;
  } else {
    auto state = worker_.StateFor(cluster);
    auto host = state->balancer.Pick(*cluster, worker_.random());
    if (!host) {
      record_.flags = "UH";
      return false;
    }
    destination = cluster->hosts[*host].address;
  }
  record_.upstream_host = destination.ToString();
  std::string error;
  up_.fd = event::ConnectTcpFrom(destination, upstream::SourceAddressFor(cluster->source_addresses, destination), &error);
  if (up_.fd < 0) {
    record_.flags = "UF";
    return false;
  }
  connecting_ = true;
  if (!worker_.loop().Add(up_.fd, true, &upstream_watcher_)) return false;
  up_.reading = false;
  up_.writing = true;
  worker_.loop().Modify(up_.fd, false, true);
  // The client is not read until the upstream is there (its bytes would have nowhere to go).
  if (!worker_.loop().Add(down_.fd, false, this)) return false;
  worker_.loop().Modify(down_.fd, false, false);
  connect_timer_ = worker_.loop().RunAfter(cluster->connect_timeout, [this] {
    connect_timer_ = 0;
    record_.flags = "UF";
    Close();
  });
  if (const auto max = action.max_connection_duration; max.count() > 0) {
    duration_timer_ = worker_.loop().RunAfter(max, [this] {
      duration_timer_ = 0;
      Close();
    });
  }
  return true;
}

void TcpProxyConnection::OnUpstreamReady(std::uint32_t ready) {
  if (dead_) return;
  if (connecting_) {
    if (!(ready & (event::kWritable | event::kClosed))) return;
    if (event::ConnectResult(up_.fd) != 0) {
      record_.flags = "UF";
      return Close();
    }
    connecting_ = false;
    worker_.loop().Cancel(connect_timer_);
    connect_timer_ = 0;
    return Connected();  // UpdateInterest starts reading both sides
  }
  if (ready & event::kWritable) {
    if (!Flush(up_)) return;
  }
  if (ready & (event::kReadable | event::kClosed)) {
    if (!Pump(up_, down_)) return;
  }
  UpdateInterest(up_);
  UpdateInterest(down_);
}

void TcpProxyConnection::OnReady(std::uint32_t ready) {
  if (dead_ || connecting_) return;
  if (ready & event::kWritable) {
    if (!Flush(down_)) return;
  }
  if (ready & (event::kReadable | event::kClosed)) {
    if (!Pump(down_, up_)) return;
  }
  UpdateInterest(up_);
  UpdateInterest(down_);
}

void TcpProxyConnection::Connected() {
  record_.connected = true;
  Touch();
  if (idle_timeout_.count() > 0) ArmIdleTimer(idle_timeout_);
  if (!Flush(up_) || !Flush(down_)) return;
  UpdateInterest(up_);
  UpdateInterest(down_);
}

bool TcpProxyConnection::Pump(Side& from, Side& to) {
  const std::size_t limit = worker_.options().max_pending_bytes;
  char buffer[kReadChunk];
  while (!from.eof && to.out.size() < limit) {
    const ssize_t n = ::recv(from.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      to.out.append(buffer, static_cast<std::size_t>(n));
      if (&from == &down_) record_.bytes_received += static_cast<std::uint64_t>(n);
      Touch();
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {  // reset: the pair goes
      Close();
      return false;
    }
    from.eof = true;
  }
  return Flush(to);
}

bool TcpProxyConnection::Flush(Side& to) {
  while (!to.out.empty()) {
    const ssize_t n = ::send(to.fd, to.out.data(), to.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      to.out.erase(0, static_cast<std::size_t>(n));
      if (&to == &down_) record_.bytes_sent += static_cast<std::uint64_t>(n);
      Touch();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    Close();
    return false;
  }
  // Everything the other side sent is delivered: pass its FIN on.
  Side& from = &to == &down_ ? up_ : down_;
  if (from.eof && !to.shut) {
    ::shutdown(to.fd, SHUT_WR);
    to.shut = true;
  }
  if (down_.eof && up_.eof && down_.shut && up_.shut) {
    Close();
    return false;
  }
  return true;
}

void TcpProxyConnection::UpdateInterest(Side& side) {
  if (dead_) return;
  Side& other = &side == &down_ ? up_ : down_;
  const bool reading = !side.eof && other.out.size() < worker_.options().max_pending_bytes;
  const bool writing = !side.out.empty();
  if (reading != side.reading || writing != side.writing) {
    side.reading = reading;
    side.writing = writing;
    worker_.loop().Modify(side.fd, reading, writing);
  }
}

void TcpProxyConnection::ArmIdleTimer(std::chrono::milliseconds after) {
  idle_timer_ = worker_.loop().RunAfter(after, [this] {
    idle_timer_ = 0;
    const auto idle = worker_.loop().now() - last_activity_;
    if (idle >= idle_timeout_) return Close();
    ArmIdleTimer(std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout_ - idle) +
                 std::chrono::milliseconds(1));
  });
}

void TcpProxyConnection::Close() {
  if (dead_) return;
  dead_ = true;
  for (event::TimerId* timer : {&connect_timer_, &idle_timer_, &duration_timer_}) {
    if (*timer) worker_.loop().Cancel(*timer);
    *timer = 0;
  }
  if (down_.fd >= 0) worker_.loop().Remove(down_.fd);
  if (up_.fd >= 0) worker_.loop().Remove(up_.fd);
  if (record_.flags.empty()) record_.flags = "-";
  if (record_.upstream_host.empty()) record_.upstream_host = "-";
  record_.duration = std::chrono::duration_cast<std::chrono::microseconds>(event::Clock::now() - start_);
  if (report_ && worker_.options().on_tcp) worker_.options().on_tcp(record_, true);
  worker_.Forget(this);
  worker_.loop().Post([this] { delete this; });
}

}  // namespace cmesh::proxy_core
