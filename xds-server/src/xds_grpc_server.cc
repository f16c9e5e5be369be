#include "cmesh/xds/xds_grpc_server.h"

#include <iostream>

#include <grpcpp/server_builder.h>

#include "cmesh/xds/open_files_limit.h"

namespace cmesh::xds {

XdsGrpcServer::XdsGrpcServer(SnapshotSource& source, SessionRegistry& registry, GroupKeyFunction group_key,
                             StreamCallbacks* callbacks)
    : service_(source, registry, std::move(group_key), callbacks) {}

XdsGrpcServer::~XdsGrpcServer() { Shutdown(); }

void XdsGrpcServer::Log(std::string_view line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "xds-server: " << line << '\n';
  }
}

bool XdsGrpcServer::Start(const XdsGrpcServerOptions& options, std::string* error) {
  if (server_) {
    *error = "xDS server already started";
    return false;
  }
  options_ = options;
  Log(Describe(RaiseOpenFilesLimit()));

  auto ms = [](std::chrono::milliseconds d) { return static_cast<int>(d.count()); };
  grpc::ServerBuilder builder;
  const std::string target = options_.address.find(':') != std::string::npos && options_.address.front() != '['
                                 ? "[" + options_.address + "]:" + std::to_string(options_.port)
                                 : options_.address + ":" + std::to_string(options_.port);
  builder.AddListeningPort(target, grpc::InsecureServerCredentials(), &port_);
  // gRPC sets SO_REUSEPORT by default, which lets a second control plane bind the same port and
  // silently take half the connections; a taken port must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  service_.SetMaxQueuedResponses(options_.max_queued_responses);
  builder.RegisterCallbackGenericService(&service_);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options_.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options_.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             ms(options_.min_client_ping_interval));
  // Pinging more often than allowed still earns a strike; the default 2 strikes would GOAWAY a
  // client whose timer runs slightly fast.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    port_ = 0;
    *error = "cannot listen on " + target;
    return false;
  }
  Log("ADS listening on " + options_.address + ":" + std::to_string(port_));
  return true;
}

void XdsGrpcServer::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  service_.FinishAll(options_.shutdown_status);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace cmesh::xds
