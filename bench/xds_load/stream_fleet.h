// The N load streams and the channels they are spread over. Each channel gets distinct channel
// arguments and a local subchannel pool, so every channel is its own TCP connection (gRPC would
// otherwise share one connection between channels to the same target).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "ads_load_stream.h"
#include "flags.h"

namespace cmesh::xds_load {

class StreamFleet {
 public:
  StreamFleet(const Flags& flags, StreamShared shared);
  ~StreamFleet();  // cancels whatever is still open and waits (bounded) for it to end

  // Opens streams [from, to) of the current generation, `streams_per_channel` per channel.
  void Open(std::size_t from, std::size_t to);
  // Ends every stream of the current generation from the client side and starts a new
  // generation on new channels (new connections); streams must then be opened again.
  // False when some stream did not end within `timeout`.
  bool DropAll(std::chrono::milliseconds timeout);
  void ArmChange();

  std::size_t open_streams() const;  // opened in this generation and not ended
  std::size_t channels() const { return channels_.size(); }
  const AdsLoadStream* stream(std::size_t index) const;
  // Streams of this generation that have not reached `milestone`, described (at most `limit`).
  std::vector<std::string> Lagging(const Milestones& milestone, std::size_t limit) const;

 private:
  envoy::service::discovery::v3::AggregatedDiscoveryService::Stub* StubFor(std::size_t index);

  const Flags& flags_;
  const StreamShared shared_;
  int generation_ = 0;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub>> stubs_;
  std::vector<std::unique_ptr<AdsLoadStream>> streams_;  // index = stream index; null until opened
  // Ended streams of earlier generations. gRPC may still be unwinding from OnDone when done()
  // turns true, so they are destroyed only with the fleet.
  std::vector<std::unique_ptr<AdsLoadStream>> retired_;
};

}  // namespace cmesh::xds_load
