#include "stream_fleet.h"

#include <grpc/grpc.h>

#include <thread>

namespace cmesh::xds_load {

StreamFleet::StreamFleet(const Flags& flags, StreamShared shared) : flags_(flags), shared_(shared) {
  streams_.resize(static_cast<std::size_t>(flags.streams));
}

StreamFleet::~StreamFleet() {
  for (auto& s : streams_) {
    if (s) s->Cancel();
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (auto* list : {&streams_, &retired_}) {
    for (auto& s : *list) {
      while (s && !s->done() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      // A stream that never ended is leaked rather than destroyed under gRPC's feet.
      if (s && !s->done()) (void)s.release();
    }
  }
}

envoy::service::discovery::v3::AggregatedDiscoveryService::Stub* StreamFleet::StubFor(std::size_t index) {
  const std::size_t channel = index / static_cast<std::size_t>(flags_.streams_per_channel);
  while (channels_.size() <= channel) {
    grpc::ChannelArguments args;
    // Without these, channels with equal arguments share one subchannel, i.e. one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetString("cmesh.xds_load.channel",
                   std::to_string(generation_) + "/" + std::to_string(channels_.size()));
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    auto ch = grpc::CreateCustomChannel(flags_.address + ":" + std::to_string(flags_.port),
                                        grpc::InsecureChannelCredentials(), args);
    stubs_.push_back(envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(ch));
    channels_.push_back(std::move(ch));
  }
  return stubs_[channel].get();
}

void StreamFleet::Open(std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to && i < streams_.size(); ++i) {
    auto stream = std::make_unique<AdsLoadStream>(i, MakeLoadNode(i, flags_.ns, flags_.labels), shared_);
    stream->Start(StubFor(i));
    streams_[i] = std::move(stream);
  }
}

bool StreamFleet::DropAll(std::chrono::milliseconds timeout) {
  for (auto& s : streams_) {
    if (s) s->Cancel();
  }
  const auto deadline = Clock::now() + timeout;
  bool all_ended = true;
  for (auto& s : streams_) {
    while (s && !s->done() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (s && !s->done()) all_ended = false;
  }
  for (auto& s : streams_) {
    if (s) retired_.push_back(std::move(s));
  }
  for (auto& s : streams_) s.reset();  // all moved out above
  stubs_.clear();
  channels_.clear();
  ++generation_;
  return all_ended;
}

void StreamFleet::ArmChange() {
  for (auto& s : streams_) {
    if (s) s->ArmChange();
  }
}

std::size_t StreamFleet::open_streams() const {
  std::size_t n = 0;
  for (const auto& s : streams_) {
    if (s && !s->done()) ++n;
  }
  return n;
}

const AdsLoadStream* StreamFleet::stream(std::size_t index) const {
  return index < streams_.size() ? streams_[index].get() : nullptr;
}

std::vector<std::string> StreamFleet::Lagging(const Milestones& milestone, std::size_t limit) const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < streams_.size() && out.size() < limit; ++i) {
    if (streams_[i] && !milestone.Has(i)) out.push_back(streams_[i]->Describe());
  }
  return out;
}

}  // namespace cmesh::xds_load
