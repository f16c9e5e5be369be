#include "cmesh/proxy_core/worker.h"

#include <unistd.h>

#include <algorithm>
#include <future>

#include "connection_dispatch.h"

namespace cmesh::proxy_core {

class Worker::Acceptor final : public event::IoWatcher {
 public:
  Acceptor(Worker& worker, int fd, bool inbound) : worker_(worker), fd_(fd), inbound_(inbound) {}
  void OnReady(std::uint32_t) override { worker_.Accept(fd_, inbound_); }

 private:
  Worker& worker_;
  int fd_;
  bool inbound_;
};

// Retired pools are checked now and then, so replaced clusters' connections close once idle.
struct Worker::Sweeper {
  Worker* worker;
  void Arm() {
    worker->loop_.RunAfter(std::chrono::seconds(1), [this] {
      worker->RetirePools();
      Arm();
    });
  }
};

Worker::ClusterState::ClusterState(std::shared_ptr<const upstream::ClusterInfo> cluster)
    : info(std::move(cluster)), balancer(*info) {}

Worker::Worker(WorkerOptions options)
    : options_(std::move(options)), random_(options_.seed) {}

Worker::~Worker() { Stop(); }

bool Worker::Start(std::vector<event::Endpoint>* bound, std::string* error) {
  if (!loop_.ok()) {
    *error = loop_.error();
    return false;
  }
  auto listen = [&](const event::Endpoint& at, bool inbound) {
    const int fd = event::ListenTcp(at, /*reuse_port=*/true, error);
    if (fd < 0) return false;
    listen_fds_.push_back(fd);
    if (bound) bound->push_back(event::LocalEndpoint(fd).value_or(at));
    acceptors_.push_back(std::make_unique<Acceptor>(*this, fd, inbound));
    loop_.Add(fd, false, acceptors_.back().get());
    return true;
  };
  for (const event::Endpoint& at : options_.listen) {
    if (!listen(at, false)) return false;
  }
  for (const event::Endpoint& at : options_.inbound_listen) {
    if (!listen(at, true)) return false;
  }
  sweeper_ = std::make_unique<Sweeper>(Sweeper{this});
  sweeper_->Arm();
  started_ = true;
  thread_ = std::thread([this] { loop_.Run(); });
  return true;
}

void Worker::SetConfig(ConfigSnapshotPtr config) {
  loop_.Post([this, config = std::move(config)]() mutable { config_ = std::move(config); });
}

void Worker::StopAccepting() {
  loop_.Post([this] {
    for (int fd : listen_fds_) {
      loop_.Remove(fd);
      ::close(fd);
    }
    listen_fds_.clear();
    // Drain may close a connection, which leaves the list: walk a copy.
    for (WorkerConnection* connection : std::vector<WorkerConnection*>(connections_)) connection->Drain();
  });
}

void Worker::Stop() {
  if (!started_) return;
  started_ = false;
  loop_.Stop();
  if (thread_.joinable()) thread_.join();
  // The loop is gone: close what is left from this thread.
  for (WorkerConnection* connection : std::vector<WorkerConnection*>(connections_)) connection->Abort();
  loop_.RunPostedForShutdown();
  for (int fd : listen_fds_) ::close(fd);
  listen_fds_.clear();
  clusters_.clear();
  original_dst_.clear();
  retired_.clear();
}

void Worker::Accept(int listen_fd, bool inbound) {
  for (int i = 0; i < 64; ++i) {  // bounded, so one busy listener cannot starve the others
    DownstreamContext context;
    const int fd = event::AcceptTcp(listen_fd, &context.peer);
    if (fd < 0) return;
    counters_.downstream_connections.fetch_add(1, std::memory_order_relaxed);
    auto local = event::LocalEndpoint(fd);
    auto original = event::OriginalDestination(fd);
    context.redirected = local && original && original->ToString() != local->ToString();
    context.original_destination = original.value_or(event::Endpoint{});
    context.inbound = inbound;
    DispatchAccepted(*this, fd, std::move(context), local.value_or(event::Endpoint{}));
  }
}

void Worker::Adopt(WorkerConnection* connection) {
  connections_.push_back(connection);
  counters_.active_connections.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Forget(WorkerConnection* connection) {
  auto it = std::find(connections_.begin(), connections_.end(), connection);
  if (it != connections_.end()) {
    *it = connections_.back();
    connections_.pop_back();
    counters_.active_connections.fetch_sub(1, std::memory_order_relaxed);
  }
}

namespace {

bool SamePoolOptions(const upstream::PoolOptions& a, const upstream::PoolOptions& b) {
  return a.connect_timeout == b.connect_timeout && a.idle_timeout == b.idle_timeout && a.max_idle == b.max_idle &&
         a.max_requests_per_connection == b.max_requests_per_connection && a.check_on_reuse == b.check_on_reuse &&
         a.source_addresses == b.source_addresses;
}

}  // namespace

std::shared_ptr<Worker::ClusterState> Worker::StateFor(const std::shared_ptr<const upstream::ClusterInfo>& cluster) {
  auto& slot = clusters_[cluster->name];
  if (slot && slot->info == cluster) return slot;
  const upstream::PoolOptions options = upstream::PoolOptionsFor(*cluster, options_.idle_timeout_cap);
  // The pools of the state being replaced, by endpoint, when their settings still hold.
  std::map<std::string, std::shared_ptr<upstream::ConnectionPool>> reusable;
  if (slot) {
    for (auto& pool : slot->pools) {
      if (SamePoolOptions(pool->options(), options)) reusable.emplace(pool->endpoint().ToString(), pool);
    }
  }
  auto state = std::make_shared<ClusterState>(cluster);
  for (std::size_t i = 0; i < cluster->hosts.size(); ++i) {
    auto kept = reusable.find(cluster->hosts[i].address.ToString());
    if (kept != reusable.end()) {
      state->pools.push_back(kept->second);
      reusable.erase(kept);
    } else {
      state->pools.push_back(std::make_shared<upstream::ConnectionPool>(loop_, cluster->hosts[i].address, options));
    }
    state->pools.back()->SetLoadSlot(state->balancer.ActiveSlot(i));
  }
  if (slot) {
    for (auto& [endpoint, pool] : reusable) pool->Drain();  // endpoints that went away
    retired_.push_back(std::move(slot));
  }
  slot = std::move(state);
  return slot;
}

std::shared_ptr<Worker::ClusterState> Worker::OriginalDstStateFor(
    const std::shared_ptr<const upstream::ClusterInfo>& cluster, const event::Endpoint& destination) {
  const std::string key = cluster->name + "|" + destination.ToString();
  auto& slot = original_dst_[key];
  slot.last_used = loop_.now();
  if (slot.state && slot.base == cluster) return slot.state;
  // The cluster as if it had one host: the destination. Its pool, balancer and circuit breakers
  // work as for any cluster (the breakers are the cluster's, shared by all its destinations).
  auto info = std::make_shared<upstream::ClusterInfo>(*cluster);
  info->type = upstream::DiscoveryType::kStatic;
  info->lb_policy = upstream::LbPolicy::kRoundRobin;
  info->hosts = {upstream::Host{destination, 1}};
  info->equal_weights = true;
  info->total_weight = 1;
  info->cumulative_weights.clear();
  info->ring.clear();
  auto state = std::make_shared<ClusterState>(std::shared_ptr<const upstream::ClusterInfo>(info));
  state->pools.push_back(std::make_shared<upstream::ConnectionPool>(
      loop_, destination, upstream::PoolOptionsFor(*info, options_.idle_timeout_cap)));
  state->pools.back()->SetLoadSlot(state->balancer.ActiveSlot(0));
  if (slot.state) {
    slot.state->pools.front()->Drain();
    retired_.push_back(std::move(slot.state));
  }
  slot.base = cluster;
  slot.state = std::move(state);
  return slot.state;
}

std::vector<EndpointStats> Worker::CollectEndpointStats(std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<std::vector<EndpointStats>>>();
  auto future = promise->get_future();
  loop_.Post([this, promise] {
    std::vector<EndpointStats> out;
    for (const auto& [name, state] : clusters_) {
      for (const auto& pool : state->pools) {
        EndpointStats e;
        e.cluster = name;
        e.endpoint = pool->endpoint().ToString();
        e.connections = pool->connections();
        e.idle = pool->idle();
        e.active_requests = pool->active();
        const upstream::PoolStats& stats = pool->stats();
        e.connect_attempts = stats.connect_attempts;
        e.connect_failures = stats.connect_failures;
        e.connect_timeouts = stats.connect_timeouts;
        e.reused = stats.reused;
        e.closed_by_upstream = stats.closed_by_upstream;
        out.push_back(std::move(e));
      }
    }
    promise->set_value(std::move(out));
  });
  if (future.wait_for(timeout) != std::future_status::ready) return {};
  return future.get();
}

void Worker::RetirePools() {
  // Destinations of ORIGINAL_DST clusters no request used for a minute, held by nobody else,
  // go (their idle connections with them): the set of destinations is open-ended.
  for (auto it = original_dst_.begin(); it != original_dst_.end();) {
    const bool unused = loop_.now() - it->second.last_used > std::chrono::minutes(1) &&
                        it->second.state.use_count() == 1 && it->second.state->pools.front()->active() == 0;
    if (unused) {
      it->second.state->pools.front()->Drain();
      it = original_dst_.erase(it);
    } else {
      ++it;
    }
  }
  // A retired state goes once the pools only it still holds are idle (pools carried over to the
  // current state are shared, and live on there) and no request holds it any more.
  std::erase_if(retired_, [](const std::shared_ptr<ClusterState>& state) {
    if (state.use_count() > 1) return false;
    return std::all_of(state->pools.begin(), state->pools.end(),
                       [](const auto& pool) { return pool.use_count() > 1 || pool->active() == 0; });
  });
}

}  // namespace cmesh::proxy_core
