// A client connection proxied as bytes (Envoy's tcp_proxy): the chain's cluster is drawn by
// weight, an endpoint picked by the cluster's balancer (or, for an ORIGINAL_DST cluster such as
// Istio's passthrough clusters, the address the client dialled), and the bytes are copied both
// ways until both sides are done. A side that stops reading stops the other side's reads once
// a bounded amount waits for it; a half-close is passed on (shutdown of the write side), so
// request/response protocols that end with a FIN keep working. The chain's idle timeout and
// maximum duration close the pair.
//
// The same object carries an upgraded HTTP/1.1 exchange (WebSocket) once the upstream answered
// 101: both sockets are then already connected (StartTunnel).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cmesh/event/event_loop.h"
#include "cmesh/proxy_core/listener_table.h"
#include "cmesh/proxy_core/worker.h"
#include "downstream_context.h"

namespace cmesh::proxy_core {

class TcpProxyConnection final : public WorkerConnection, private event::IoWatcher {
 public:
  // Takes `fd` (closed on failure too). `already_read`: bytes the client sent that the worker
  // read while choosing the chain (protocol sniffing); they go upstream first.
  static void Start(Worker& worker, int fd, const DownstreamContext& context, const ChainAction& action,
                    std::string already_read);

  // Takes both sockets: an HTTP exchange that switched protocols. `to_upstream` /
  // `to_downstream` are bytes already received from one side and not yet written to the other.
  static void StartTunnel(Worker& worker, int downstream_fd, int upstream_fd, std::string to_upstream,
                          std::string to_downstream, TcpRecord record, std::chrono::milliseconds idle_timeout);

  void Abort() override { Close(); }

 private:
  struct Side {
    int fd = -1;
    std::string out;       // waiting to be written to this side
    bool eof = false;      // this side sent its FIN
    bool shut = false;     // we shut down writing to this side
    bool reading = false;  // registered for readability
    bool writing = false;
  };

  TcpProxyConnection(Worker& worker, int fd, TcpRecord record);
  ~TcpProxyConnection() override;

  bool Connect(const DownstreamContext& context, const ChainAction& action);
  void OnReady(std::uint32_t ready) override;  // the downstream socket
  void OnUpstreamReady(std::uint32_t ready);
  void Connected();
  // Reads what `from` sent into `to.out`, writes `to.out`; false when the pair closed.
  bool Pump(Side& from, Side& to);
  bool Flush(Side& to);
  void UpdateInterest(Side& side);
  void Touch() { last_activity_ = worker_.loop().now(); }
  void ArmIdleTimer(std::chrono::milliseconds after);
  void Close();

  Worker& worker_;
  Side down_;
  Side up_;
  bool connecting_ = false;
  bool dead_ = false;
  // Reported to on_tcp (tcp_proxy chains; an upgraded HTTP exchange is reported as its request).
  bool report_ = false;
  TcpRecord record_;
  event::Clock::time_point start_;
  event::Clock::time_point last_activity_;
  std::chrono::milliseconds idle_timeout_{0};
  event::TimerId connect_timer_ = 0;
  event::TimerId idle_timer_ = 0;
  event::TimerId duration_timer_ = 0;

  class UpstreamWatcher final : public event::IoWatcher {
   public:
    explicit UpstreamWatcher(TcpProxyConnection& owner) : owner_(owner) {}
    void OnReady(std::uint32_t ready) override { owner_.OnUpstreamReady(ready); }

   private:
    TcpProxyConnection& owner_;
  };
  UpstreamWatcher upstream_watcher_{*this};
};

}  // namespace cmesh::proxy_core
