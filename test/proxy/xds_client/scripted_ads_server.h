// A fake ADS server for the client's wire tests: it records every request the client writes, and
// sends whatever bytes the test scripts (real responses or garbage) on the latest stream. The
// generic callback API lets it write bytes that are not a DiscoveryResponse.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds_client::testing {

class ScriptedAdsServer {
 public:
  struct Received {
    int stream = 0;  // 1 for the first stream, 2 for the next...
    envoy::service::discovery::v3::DiscoveryRequest request;
  };

  ScriptedAdsServer();
  ~ScriptedAdsServer();
  // Binds 127.0.0.1:0; false when it cannot.
  bool Start();
  int port() const { return port_; }

  // The next request in arrival order, waiting up to `timeout`.
  std::optional<Received> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Writes on the latest stream; false when there is none open.
  bool Send(const envoy::service::discovery::v3::DiscoveryResponse& response);
  bool SendRaw(std::string bytes);
  // Ends the latest stream with `status`.
  void EndStream(const grpc::Status& status);
  int streams() const;

  class Reactor;

 private:
  class Service;
  friend class Reactor;
  void Record(Reactor* reactor, envoy::service::discovery::v3::DiscoveryRequest request);
  void Opened(Reactor* reactor);
  void Gone(Reactor* reactor);

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Received> received_;
  std::vector<std::pair<Reactor*, int>> open_;  // with their stream numbers
  int streams_ = 0;
};

}  // namespace cmesh::xds_client::testing
