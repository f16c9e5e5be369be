#include "cmesh/xds_client/xds_client.h"

#include <deque>
#include <random>

#include <grpcpp/alarm.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include "cmesh/xds_client/backoff.h"

namespace cmesh::xds_client {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

namespace {

constexpr char kAdsMethod[] = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

enum class Tag : std::intptr_t { kStart = 1, kRead, kWrite, kFinish, kWake };
void* ToTag(Tag tag) { return reinterpret_cast<void*>(static_cast<std::intptr_t>(tag)); }
Tag FromTag(void* tag) { return static_cast<Tag>(reinterpret_cast<std::intptr_t>(tag)); }

std::string StatusText(const grpc::Status& status) {
  static constexpr const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                           "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                           "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  int code = static_cast<int>(status.error_code());
  std::string text = code >= 0 && code <= 16 ? kNames[code] : "code " + std::to_string(code);
  if (!status.error_message().empty()) text += ": " + status.error_message();
  return text;
}

std::chrono::system_clock::time_point ToSystem(SteadyClock::time_point deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - SteadyClock::now());
}

}  // namespace

// Everything on the client thread is driven by one completion queue: the stream's operations,
// the backoff and warming deadlines (AsyncNext's deadline) and Stop's wake-up alarm. So the
// protocol state has a single writer; the mutex only lets Status() read it from other threads.
class XdsClient::Runner {
 public:
  Runner(const XdsClientOptions& options, const ConfigCallback& on_config)
      : options_(options),
        on_config_(on_config),
        validator_(options.validator ? options.validator : std::make_shared<DefaultResourceValidator>()),
        session_(AdsSession::Options{XdsClient::BuildNode(options), validator_.get(), options.warming_timeout}),
        backoff_(options.backoff_base, options.backoff_max, RandomSource(options)) {}

  void Run();
  void RequestStop();
  XdsClientStatus Status() const;
  XdsStatePtr Current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  struct Stream {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
    grpc::ClientContext context;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call;
    grpc::ByteBuffer incoming;
    std::deque<grpc::ByteBuffer> outgoing;
    bool start_pending = false, read_pending = false, write_pending = false, finish_pending = false;
    bool started = false, ending = false, finished = false;
    bool answered = false;  // the server sent at least one response
    std::string end_reason;  // set when the client ended it
    grpc::Status status;
    bool Drained() const { return finished && !start_pending && !read_pending && !write_pending; }
  };

  static std::function<double()> RandomSource(const XdsClientOptions& options) {
    if (options.random) return options.random;
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  TimePoint Now() const { return options_.clock ? options_.clock() : SteadyClock::now(); }
  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  void OpenStream();
  void OnStart(bool ok);
  void OnRead(bool ok);
  void OnWrite(bool ok);
  void OnFinish();
  void EndStream(const std::string& reason);
  void MaybeFinish();
  void CloseStream();
  void Send(std::vector<DiscoveryRequest> requests);
  void MaybeWrite();
  void Deliver(XdsStatePtr config);

  const XdsClientOptions& options_;
  const ConfigCallback& on_config_;
  std::shared_ptr<const ResourceValidator> validator_;
  grpc::CompletionQueue cq_;

  mutable std::mutex mutex_;  // guards what Status() and Current() read, and stop_/alarm_/stream_
  AdsSession session_;
  XdsStatePtr current_;
  std::unique_ptr<Stream> stream_;
  bool stop_ = false;
  std::unique_ptr<grpc::Alarm> alarm_;
  std::uint64_t streams_ = 0;
  std::uint64_t reconnects_ = 0;
  std::uint64_t malformed_ = 0;
  std::string last_stream_error_;

  // Client thread only.
  JitteredBackoff backoff_;
  SteadyClock::time_point next_attempt_{};
};

void XdsClient::Runner::Run() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stop_ && !stream_) break;
    }
    if (!stream_ && SteadyClock::now() >= next_attempt_) OpenStream();

    // Sleep until the next event, the reconnect time or a warming deadline.
    SteadyClock::time_point deadline = SteadyClock::now() + std::chrono::hours(1);
    if (!stream_) deadline = std::min(deadline, next_attempt_);
    std::optional<TimePoint> warming;
    {
      std::lock_guard lock(mutex_);
      warming = session_.NextDeadline();
    }
    if (warming) {
      // The session's deadlines are on the injected clock; wait the remaining time for real.
      deadline = std::min(deadline, SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                             std::max(*warming - Now(), TimePoint::duration::zero())));
    }
    void* tag = nullptr;
    bool ok = false;
    grpc::CompletionQueue::NextStatus next = cq_.AsyncNext(&tag, &ok, ToSystem(deadline));
    if (next == grpc::CompletionQueue::SHUTDOWN) break;
    if (next == grpc::CompletionQueue::TIMEOUT) {
      XdsStatePtr config;
      {
        std::lock_guard lock(mutex_);
        config = session_.OnTimer(Now());
      }
      Deliver(std::move(config));
      continue;
    }
    switch (FromTag(tag)) {
      case Tag::kStart: OnStart(ok); break;
      case Tag::kRead: OnRead(ok); break;
      case Tag::kWrite: OnWrite(ok); break;
      case Tag::kFinish: OnFinish(); break;
      case Tag::kWake:
        if (stream_) EndStream("client stopping");
        break;
    }
    if (stream_ && stream_->Drained()) CloseStream();
  }
  cq_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
  }
}

void XdsClient::Runner::RequestStop() {
  std::lock_guard lock(mutex_);
  if (stop_) return;
  stop_ = true;
  if (stream_) stream_->context.TryCancel();
  // Wakes the client thread wherever it waits (a backoff sleep included).
  alarm_ = std::make_unique<grpc::Alarm>();
  alarm_->Set(&cq_, std::chrono::system_clock::now(), ToTag(Tag::kWake));
}

void XdsClient::Runner::OpenStream() {
  auto stream = std::make_unique<Stream>();
  grpc::ChannelArguments args;
  // A channel of its own per stream, with its own subchannel: gRPC's channel-level reconnect
  // backoff (1 s growing to 120 s, shared through the global subchannel pool) would otherwise
  // stack on ours and slow the return of a restarted control plane.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options_.keepalive_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options_.keepalive_timeout.count()));
  args.SetUserAgentPrefix("cmesh-proxy/" + (options_.proxy_version.empty() ? "dev" : options_.proxy_version));
  stream->channel = grpc::CreateCustomChannel(options_.server, grpc::InsecureChannelCredentials(), args);
  stream->stub = std::make_unique<grpc::GenericStub>(stream->channel);
  // Not wait_for_ready: a control plane that is down fails the call at once, and our backoff
  // decides when to try again.
  stream->call = stream->stub->PrepareCall(&stream->context, kAdsMethod, &cq_);
  stream->start_pending = true;
  stream->call->StartCall(ToTag(Tag::kStart));
  std::lock_guard lock(mutex_);
  if (streams_ > 0) ++reconnects_;
  ++streams_;
  stream_ = std::move(stream);
  if (stop_) stream_->context.TryCancel();
}

void XdsClient::Runner::OnStart(bool ok) {
  stream_->start_pending = false;
  if (!ok) {
    EndStream("");
    return;
  }
  stream_->started = true;
  std::vector<DiscoveryRequest> requests;
  {
    std::lock_guard lock(mutex_);
    requests = session_.StartStream();
  }
  Send(std::move(requests));
  stream_->read_pending = true;
  stream_->call->Read(&stream_->incoming, ToTag(Tag::kRead));
}

void XdsClient::Runner::OnRead(bool ok) {
  stream_->read_pending = false;
  if (!ok) {
    EndStream("");
    return;
  }
  // Freed before the configuration is delivered: the proxy trims the heap once it has built its
  // snapshot, and a response freed after that (megabytes for a big mesh) would stay resident.
  auto response = std::make_unique<DiscoveryResponse>();
  grpc::Status parsed = grpc::SerializationTraits<DiscoveryResponse>::Deserialize(&stream_->incoming, response.get());
  if (!parsed.ok()) {
    // Bytes that are not a DiscoveryResponse: nothing in them can be ACKed or NACKed (there is
    // no nonce to echo), so the stream is ended and a new one starts from the accepted state.
    {
      std::lock_guard lock(mutex_);
      ++malformed_;
    }
    EndStream("malformed DiscoveryResponse");
    return;
  }
  AdsSession::Outcome outcome;
  {
    std::lock_guard lock(mutex_);
    stream_->answered = true;
    outcome = session_.OnResponse(*response, Now());
  }
  if (!outcome.requests.empty() && outcome.requests.back().has_error_detail()) {
    Log("xds: NACK " + response->type_url() + " version " + response->version_info() + ": " +
        outcome.requests.back().error_detail().message());
  }
  response.reset();
  backoff_.Reset();  // the server is answering: the next disconnect starts from the base delay
  Send(std::move(outcome.requests));
  Deliver(std::move(outcome.config));
  if (!stream_->ending) {
    stream_->read_pending = true;
    stream_->call->Read(&stream_->incoming, ToTag(Tag::kRead));
  }
}

void XdsClient::Runner::OnWrite(bool ok) {
  stream_->write_pending = false;
  if (!stream_->outgoing.empty()) stream_->outgoing.pop_front();
  if (!ok) {
    EndStream("");
    return;
  }
  MaybeWrite();
}

void XdsClient::Runner::OnFinish() {
  stream_->finish_pending = false;
  stream_->finished = true;
  // A write the server will never take must not keep the stream alive.
  if (stream_->write_pending) stream_->context.TryCancel();
}

void XdsClient::Runner::EndStream(const std::string& reason) {
  if (!stream_->ending) {
    stream_->ending = true;
    stream_->end_reason = reason;
    // A failed read or start means the call is over already; otherwise it is the client that
    // ends it, and cancelling completes the operations still pending.
    if (!reason.empty()) stream_->context.TryCancel();
  }
  MaybeFinish();
}

void XdsClient::Runner::MaybeFinish() {
  Stream& s = *stream_;
  if (!s.ending || s.finish_pending || s.finished || s.start_pending || s.read_pending) return;
  s.finish_pending = true;
  s.call->Finish(&s.status, ToTag(Tag::kFinish));
}

void XdsClient::Runner::CloseStream() {
  std::string error = stream_->end_reason.empty() ? StatusText(stream_->status) : stream_->end_reason;
  bool answered = stream_->answered;
  {
    std::lock_guard lock(mutex_);
    last_stream_error_ = error;
    stream_.reset();
  }
  if (answered) backoff_.Reset();
  auto delay = backoff_.NextDelay();
  next_attempt_ = SteadyClock::now() + delay;
  Log("xds: stream to " + options_.server + " ended (" + error + "); reconnecting in " +
      std::to_string(delay.count()) + " ms");
}

void XdsClient::Runner::Send(std::vector<DiscoveryRequest> requests) {
  for (const DiscoveryRequest& request : requests) {
    grpc::ByteBuffer buffer;
    bool own = false;
    if (grpc::SerializationTraits<DiscoveryRequest>::Serialize(request, &buffer, &own).ok()) {
      stream_->outgoing.push_back(std::move(buffer));
    }
  }
  MaybeWrite();
}

void XdsClient::Runner::MaybeWrite() {
  Stream& s = *stream_;
  if (s.write_pending || s.outgoing.empty() || !s.started || s.ending) return;
  s.write_pending = true;
  s.call->Write(s.outgoing.front(), ToTag(Tag::kWrite));
}

void XdsClient::Runner::Deliver(XdsStatePtr config) {
  if (!config) return;
  {
    std::lock_guard lock(mutex_);
    current_ = config;
  }
  if (!config->missing.empty()) {
    std::string names;
    for (const std::string& name : config->missing) names += (names.empty() ? "" : ", ") + name;
    Log("xds: configuration " + std::to_string(config->generation) + " delivered without " + names);
  }
  if (on_config_) on_config_(std::move(config));
}

XdsClientStatus XdsClient::Runner::Status() const {
  std::lock_guard lock(mutex_);
  XdsClientStatus status;
  status.server = options_.server;
  status.connected = stream_ && stream_->answered && !stream_->ending;
  for (XdsType type : kXdsTypes) {
    status.types[Index(type)] = session_.type_status(type);
    status.acks += session_.type_status(type).acks;
    status.nacks += session_.type_status(type).nacks;
  }
  status.last_nack = session_.last_nack();
  status.streams = streams_;
  status.reconnects = reconnects_;
  status.malformed_responses = malformed_;
  status.ignored_responses = session_.ignored_responses();
  status.last_stream_error = last_stream_error_;
  if (const XdsStatePtr& delivered = session_.delivered()) {
    status.generation = delivered->generation;
    status.missing = delivered->missing;
  }
  return status;
}

XdsClient::XdsClient(XdsClientOptions options, ConfigCallback on_config)
    : options_(std::move(options)), on_config_(std::move(on_config)) {
  runner_ = std::make_unique<Runner>(options_, on_config_);
}

XdsClient::~XdsClient() { Stop(); }

void XdsClient::Start() {
  std::lock_guard lock(start_mutex_);
  if (started_ || stopped_) return;
  started_ = true;
  thread_ = std::thread([this] { runner_->Run(); });
}

void XdsClient::Stop() {
  std::lock_guard lock(start_mutex_);
  if (stopped_) return;
  stopped_ = true;
  // Never started: the completion queue was never polled, so nothing may be queued on it.
  if (!started_) return;
  runner_->RequestStop();
  thread_.join();
}

XdsClientStatus XdsClient::Status() const { return runner_->Status(); }
XdsStatePtr XdsClient::Current() const { return runner_->Current(); }

}  // namespace cmesh::xds_client
