// One worker thread of cmesh-proxy: its own event loop, its own listening sockets (SO_REUSEPORT,
// so the kernel spreads connections over the workers), its own load balancers and upstream
// connection pools, and a pointer to the current ConfigSnapshot that only its thread reads.
// A new snapshot arrives through SetConfig (posted to the loop): requests in flight keep the
// snapshot they started with; nothing on the request path takes a lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cmesh/event/event_loop.h"
#include "cmesh/event/socket.h"
#include "cmesh/http1/message.h"
#include "cmesh/proxy_core/config_snapshot.h"
#include "cmesh/event/random.h"
#include "cmesh/upstream/cluster_runtime.h"
#include "cmesh/upstream/connection_pool.h"
#include "cmesh/upstream/load_balancer.h"

namespace cmesh::proxy_core {

// One finished request, for the access log and the metrics.
struct RequestRecord {
  std::string method;
  std::string path;
  std::string authority;
  int protocol_major = 1;  // 2: HTTP/2
  int protocol_minor = 1;
  int status = 0;
  std::string flags;  // Envoy's response flags ("-" when none): NR, UH, UF, UT, UC, NC, FI, DI
  std::uint64_t bytes_received = 0;  // request body
  std::uint64_t bytes_sent = 0;      // response body
  std::chrono::microseconds duration{0};
  std::string upstream_host;  // "10.1.0.5:9080" or "-"
  std::string cluster;        // or "-"
  std::string route;          // route name or "-"
  std::string request_id;
  std::uint32_t attempts = 0;
  bool inbound = false;  // served by the inbound listener (Istio's reporter="destination")
  // A gRPC exchange's status (grpc-status of the trailers, of a trailers-only answer, or of the
  // proxy's own answer); -1 when the exchange was not gRPC or ended without one.
  int grpc_status = -1;
  std::string destination_service;  // the inbound cluster's service (FQDN), when it says
};

// One finished TCP-proxied connection (tcp_proxy chains, passthrough), for the metrics.
struct TcpRecord {
  std::string cluster;
  std::string upstream_host;  // or "-" when the connect failed
  bool inbound = false;
  bool connected = false;
  std::uint64_t bytes_received = 0;  // from the client
  std::uint64_t bytes_sent = 0;      // to the client
  std::chrono::microseconds duration{0};
  std::string flags;  // UF (connect failed), UH (no host), NC (no cluster), or "-"
};

struct WorkerOptions {
  // The outbound listeners this worker opens (each with SO_REUSEPORT). A connection redirected
  // to one (SO_ORIGINAL_DST differs from the listener) is routed by its original destination;
  // one that was not is an explicit-proxy connection, routed by its request's authority.
  std::vector<event::Endpoint> listen;
  // The inbound listeners (15006): connections iptables redirected to this pod's app ports,
  // matched against the inbound listener's filter chains by their original destination.
  std::vector<event::Endpoint> inbound_listen;
  http1::Limits limits;
  // Request bodies up to this size are kept for retries; a longer body streams through and its
  // request is not retried once a byte of it went upstream.
  std::size_t retry_buffer_limit = 64 * 1024;
  // Stop reading a side while this much waits to be written to the other.
  std::size_t max_pending_bytes = 1 << 20;
  std::chrono::milliseconds idle_timeout_cap = upstream::kDefaultIdleTimeoutCap;
  std::uint64_t seed = 0;
  // Called on the worker's thread after every request (keep it short).
  std::function<void(const RequestRecord&)> on_request;
  // Called on the worker's thread when a TCP-proxied connection opens (record.connected false,
  // no bytes yet) and when it closes.
  std::function<void(const TcpRecord&, bool closed)> on_tcp;
};

// A connection a worker owns (HTTP/1.1, HTTP/2, TCP): closed at once by Abort on shutdown.
class WorkerConnection {
 public:
  virtual ~WorkerConnection() = default;
  virtual void Abort() = 0;
  // The proxy is draining (SIGTERM, /drain_listeners): finish what is in flight, take no new
  // requests (HTTP/1.1: close after the current exchange; HTTP/2: GOAWAY). TCP goes on.
  virtual void Drain() {}
};

// One endpoint's pool as a worker sees it, for the admin's /clusters.
struct EndpointStats {
  std::string cluster;
  std::string endpoint;  // "10.1.0.5:9080"
  std::uint64_t connections = 0;  // open now (connecting, busy, idle)
  std::uint64_t idle = 0;
  std::uint64_t active_requests = 0;
  std::uint64_t connect_attempts = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t connect_timeouts = 0;
  std::uint64_t reused = 0;
  std::uint64_t closed_by_upstream = 0;
};

struct WorkerCounters {
  std::atomic<std::uint64_t> downstream_connections{0};  // accepted
  std::atomic<std::uint64_t> active_connections{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> upstream_connect_failures{0};
  std::atomic<std::uint64_t> upstream_timeouts{0};
  // Circuit breakers and outlier detection (Envoy's cluster stat names, summed over clusters).
  std::atomic<std::uint64_t> upstream_rq_pending_overflow{0};  // 503 UO: max_pending_requests or max_requests
  std::atomic<std::uint64_t> upstream_cx_overflow{0};          // a connection over max_connections (request queued)
  std::atomic<std::uint64_t> upstream_rq_retry_overflow{0};    // a retry refused by max_retries or the retry budget
  std::atomic<std::uint64_t> outlier_detection_ejections_enforced{0};
  std::atomic<std::uint64_t> upstream_rq_mirrored{0};          // mirror copies sent (request_mirror_policies)
  std::atomic<std::uint64_t> stream_idle_timeouts{0};          // route idle_timeout hit (408 SI or reset)
};

class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();  // stops and joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens the listeners and starts the thread. `bound` (optional) gets the listeners' actual
  // endpoints (port 0 picks one; pass the result to the next worker so they share it).
  bool Start(std::vector<event::Endpoint>* bound, std::string* error);
  // Thread-safe.
  void SetConfig(ConfigSnapshotPtr config);
  // Thread-safe: closes the listening sockets; the open connections drain (WorkerConnection::Drain).
  void StopAccepting();
  // Thread-safe: ends the loop (open connections are closed) and joins.
  void Stop();

  const WorkerCounters& counters() const { return counters_; }
  // Thread-safe: the worker's pools, read on its own thread; empty if it does not answer within
  // `timeout` (a stuck worker must not stall the admin port).
  std::vector<EndpointStats> CollectEndpointStats(std::chrono::milliseconds timeout);

  // Loop-thread side, for the connections.
  event::EventLoop& loop() { return loop_; }
  const ConfigSnapshotPtr& config() const { return config_; }
  const WorkerOptions& options() const { return options_; }
  // The worker's random source: route draws (weights, faults) and endpoint picks.
  event::Random& random() { return random_; }
  WorkerCounters& mutable_counters() { return counters_; }
  // The pools of `cluster`'s endpoints (by host index) and its balancer; created on first use,
  // replaced when the cluster object changes. A replacement keeps the pools (and so the kept-alive
  // connections) of endpoints that are still there with the same settings; the others are
  // drained. Callers hold the shared_ptr while they use it (a retry after a config change still
  // finds the state its request started with).
  struct ClusterState;
  std::shared_ptr<ClusterState> StateFor(const std::shared_ptr<const upstream::ClusterInfo>& cluster);
  // For an ORIGINAL_DST cluster (Istio's passthrough clusters): the state of one destination, as
  // a cluster whose only host is `destination`; kept while used, dropped after a minute unused.
  std::shared_ptr<ClusterState> OriginalDstStateFor(const std::shared_ptr<const upstream::ClusterInfo>& cluster,
                                                    const event::Endpoint& destination);
  // A handler's connection joins (counted active) and leaves the worker's list.
  void Adopt(WorkerConnection* connection);
  void Forget(WorkerConnection* connection);

  struct ClusterState {
    std::shared_ptr<const upstream::ClusterInfo> info;
    upstream::LoadBalancer balancer;
    std::vector<std::shared_ptr<upstream::ConnectionPool>> pools;  // by host index
    explicit ClusterState(std::shared_ptr<const upstream::ClusterInfo> cluster);
    // Shared by the workers through the registry, by cluster name: circuit breaker counters and
    // the outlier state of each host (by host index). Initialised here so the state built by
    // StateFor picks them up (the pools attach the runtime on first use).
    std::shared_ptr<upstream::ClusterRuntime> runtime = upstream::ClusterRuntimeRegistry::Default().For(info->name);
    std::vector<std::shared_ptr<upstream::HostHealth>> health = runtime->ApplyConfig(*info);
  };

 private:
  class Acceptor;
  void Accept(int listen_fd, bool inbound);
  void RetirePools();

  WorkerOptions options_;
  event::EventLoop loop_;
  std::thread thread_;
  std::vector<int> listen_fds_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  ConfigSnapshotPtr config_;
  event::Random random_;
  std::map<std::string, std::shared_ptr<ClusterState>, std::less<>> clusters_;
  struct OriginalDst {
    std::shared_ptr<const upstream::ClusterInfo> base;
    std::shared_ptr<ClusterState> state;
    event::Clock::time_point last_used;
  };
  std::map<std::string, OriginalDst, std::less<>> original_dst_;  // by "CLUSTER|IP:PORT"
  // Replaced cluster states, kept until the pools only they hold are idle.
  std::vector<std::shared_ptr<ClusterState>> retired_;
  std::vector<WorkerConnection*> connections_;
  WorkerCounters counters_;
  struct Sweeper;
  std::unique_ptr<Sweeper> sweeper_;
  bool started_ = false;
};

}  // namespace cmesh::proxy_core
