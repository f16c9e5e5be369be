// The gRPC server of the control plane: the ADS service on one address:port, configured for
// thousands of long-lived streams carrying large snapshots.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/server.h>

#include "cmesh/xds/ads_service.h"

namespace cmesh::xds {

struct XdsGrpcServerOptions {
  std::string address = "0.0.0.0";
  int port = 15010;  // Istio's plaintext xDS port; 0 picks a free one (see XdsGrpcServer::port())
  // Server pings find dead clients (a proxy whose host vanished never closes its TCP connection).
  std::chrono::milliseconds keepalive_time{30'000};
  std::chrono::milliseconds keepalive_timeout{10'000};
  // Clients may ping this often, also without a call in flight, without being sent GOAWAY
  // (grpc-go and Envoy ping on idle ADS connections).
  std::chrono::milliseconds min_client_ping_interval{10'000};
  // Per connection. gRPC's own default is unbounded; an explicit bound (Istio's pilot uses the
  // same 100,000) keeps one misbehaving connection from opening streams without limit, while a
  // load generator multiplexing thousands of streams on one connection still fits.
  int max_concurrent_streams = 100'000;
  // Big meshes produce multi-megabyte LDS/CDS responses; gRPC's default receive limit is 4 MiB.
  int max_message_bytes = 64 << 20;
  // Responses that may wait behind a stream's write in flight before the stream is ended as
  // stuck (see AdsService::SetMaxQueuedResponses).
  std::size_t max_queued_responses = AdsService::kDefaultMaxQueuedResponses;
  // Status the open streams are ended with on Shutdown.
  grpc::Status shutdown_status{grpc::StatusCode::UNAVAILABLE, "xDS server shutting down"};
  // Where start-up facts (bound port, open-files limit) are written; stderr when empty.
  std::function<void(std::string_view)> log;
};

class XdsGrpcServer {
 public:
  // Everything passed in must outlive the server.
  XdsGrpcServer(SnapshotSource& source, SessionRegistry& registry, GroupKeyFunction group_key,
                StreamCallbacks* callbacks = nullptr);
  ~XdsGrpcServer();  // shuts down if still running
  XdsGrpcServer(const XdsGrpcServer&) = delete;
  XdsGrpcServer& operator=(const XdsGrpcServer&) = delete;

  // Raises the open-files limit, then binds and starts serving. False (with *error) when the
  // address cannot be bound or the server is already started.
  bool Start(const XdsGrpcServerOptions& options, std::string* error);
  // The bound port (the chosen one when options.port was 0); 0 before Start.
  int port() const { return port_; }

  // Ends every open stream with options.shutdown_status, then stops the server; calls still
  // running after `grace` (a client not reading a large write) are cancelled. Idempotent.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));

  AdsService& service() { return service_; }

 private:
  void Log(std::string_view line) const;

  AdsService service_;
  XdsGrpcServerOptions options_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace cmesh::xds
