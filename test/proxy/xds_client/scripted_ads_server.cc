#include "scripted_ads_server.h"

#include <algorithm>

namespace cmesh::xds_client::testing {

using envoy::service::discovery::v3::DiscoveryRequest;

class ScriptedAdsServer::Reactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit Reactor(ScriptedAdsServer* server) : server_(server) {
    server_->Opened(this);
    StartRead(&in_);
  }

  void Write(std::string bytes) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    queue_.push_back(std::move(bytes));
    WriteNextLocked();
  }

  void End(const grpc::Status& status) {
    std::lock_guard lock(mutex_);
    if (finished_ || end_status_) return;
    end_status_ = status;
    if (!writing_) FinishLocked();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      End(grpc::Status::OK);
      return;
    }
    DiscoveryRequest request;
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (in_.Dump(&slices).ok()) {
      for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    if (!request.ParseFromString(bytes)) {
      End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "not a DiscoveryRequest"));
      return;
    }
    server_->Record(this, std::move(request));
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) queue_.clear();
    if (!queue_.empty() && !end_status_) {
      WriteNextLocked();
    } else if (end_status_) {
      FinishLocked();
    }
  }

  void OnDone() override {
    server_->Gone(this);
    delete this;
  }

 private:
  void WriteNextLocked() {
    if (writing_ || queue_.empty() || end_status_) return;
    writing_ = true;
    grpc::Slice slice(queue_.front());
    out_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&out_);
  }
  void FinishLocked() {
    if (finished_) return;
    finished_ = true;
    Finish(*end_status_);
  }

  ScriptedAdsServer* server_;
  grpc::ByteBuffer in_, out_;
  std::mutex mutex_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> end_status_;
};

class ScriptedAdsServer::Service final : public grpc::CallbackGenericService {
 public:
  explicit Service(ScriptedAdsServer* server) : server_(server) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    if (context->method() != "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources") {
      return grpc::CallbackGenericService::CreateReactor(context);  // UNIMPLEMENTED
    }
    return new Reactor(server_);
  }

 private:
  ScriptedAdsServer* server_;
};

ScriptedAdsServer::ScriptedAdsServer() : service_(std::make_unique<Service>(this)) {}

ScriptedAdsServer::~ScriptedAdsServer() {
  if (server_) {
    // Cancels the open streams; their reactors finish from OnReadDone.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_->Wait();
  }
}

bool ScriptedAdsServer::Start() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterCallbackGenericService(service_.get());
  server_ = builder.BuildAndStart();
  return server_ && port_ > 0;
}

std::optional<ScriptedAdsServer::Received> ScriptedAdsServer::Next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return !received_.empty(); });
  if (received_.empty()) return std::nullopt;
  Received next = std::move(received_.front());
  received_.pop_front();
  return next;
}

bool ScriptedAdsServer::Send(const envoy::service::discovery::v3::DiscoveryResponse& response) {
  return SendRaw(response.SerializeAsString());
}

bool ScriptedAdsServer::SendRaw(std::string bytes) {
  std::lock_guard lock(mutex_);
  if (open_.empty()) return false;
  open_.back().first->Write(std::move(bytes));
  return true;
}

void ScriptedAdsServer::EndStream(const grpc::Status& status) {
  std::lock_guard lock(mutex_);
  if (!open_.empty()) open_.back().first->End(status);
}

int ScriptedAdsServer::streams() const {
  std::lock_guard lock(mutex_);
  return streams_;
}

void ScriptedAdsServer::Opened(Reactor* reactor) {
  std::lock_guard lock(mutex_);
  open_.emplace_back(reactor, ++streams_);
}

void ScriptedAdsServer::Record(Reactor* reactor, DiscoveryRequest request) {
  std::lock_guard lock(mutex_);
  int number = 0;
  for (auto& [open, n] : open_) {
    if (open == reactor) number = n;
  }
  received_.push_back({number, std::move(request)});
  changed_.notify_all();
}

void ScriptedAdsServer::Gone(Reactor* reactor) {
  std::lock_guard lock(mutex_);
  std::erase_if(open_, [&](const auto& entry) { return entry.first == reactor; });
}

}  // namespace cmesh::xds_client::testing
