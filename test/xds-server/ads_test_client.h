// A real gRPC ADS client for the in-process server tests: the stub generated from ads.proto, with
// a reader thread so a test can wait for the next response with a deadline instead of sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace cmesh::xds::testing {

using AdsStub = envoy::service::discovery::v3::AggregatedDiscoveryService::Stub;

template <typename Request, typename Response>
class AdsTestStream {
 public:
  // `open`: &AdsStub::StreamAggregatedResources or &AdsStub::DeltaAggregatedResources.
  template <typename Open>
  AdsTestStream(AdsStub& stub, Open open) {
    stream_ = (stub.*open)(&context_);
    reader_ = std::thread([this] {
      Response response;
      while (stream_->Read(&response)) {
        std::lock_guard lock(mutex_);
        received_.push_back(std::move(response));
        changed_.notify_all();
      }
      std::lock_guard lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~AdsTestStream() {
    context_.TryCancel();
    Finish();
  }

  bool Send(const Request& request) { return stream_->Write(request); }

  // The next response, or nullopt when none arrives in time or the stream ended.
  std::optional<Response> Next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return !received_.empty() || ended_; });
    if (received_.empty()) return std::nullopt;
    Response response = std::move(received_.front());
    received_.pop_front();
    return response;
  }

  // Waits for the server to end the stream; its status.
  grpc::Status AwaitEnd() {
    Finish();
    return status_;
  }
  // Half-closes, as a well-behaved client leaving does, then waits for the end.
  grpc::Status Close() {
    stream_->WritesDone();
    return AwaitEnd();
  }
  void Cancel() { context_.TryCancel(); }

 private:
  void Finish() {
    if (reader_.joinable()) {
      reader_.join();
      status_ = stream_->Finish();
    }
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriterInterface<Request, Response>> stream_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Response> received_;
  bool ended_ = false;
  grpc::Status status_;
};

using SotwTestStream =
    AdsTestStream<envoy::service::discovery::v3::DiscoveryRequest, envoy::service::discovery::v3::DiscoveryResponse>;
using DeltaTestStream = AdsTestStream<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                                      envoy::service::discovery::v3::DeltaDiscoveryResponse>;

}  // namespace cmesh::xds::testing
