#include "eds_sidecar.h"

#include <set>
#include <utility>

#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace cmesh::kube_churn {

using xds_load::XdsType;

namespace {

constexpr const char* kClientIp = "10.99.0.1";

std::size_t Index(XdsType type) { return static_cast<std::size_t>(type); }

// Endpoints a proxy would send traffic to: healthy or of unknown health.
bool Usable(const envoy::config::endpoint::v3::LbEndpoint& endpoint) {
  using envoy::config::core::v3::HealthStatus;
  const auto status = endpoint.health_status();
  return status == HealthStatus::UNKNOWN || status == HealthStatus::HEALTHY;
}

}  // namespace

EdsSidecar::EdsSidecar(std::string target, const std::string& ns, const std::string& istio_version,
                       EndpointTracker* tracker)
    : target_(std::move(target)), tracker_(tracker) {
  node_.set_id(std::string("sidecar~") + kClientIp + "~client-1." + ns + "~" + ns + ".svc.cluster.local");
  node_.set_cluster("churn-client." + ns);
  node_.set_user_agent_name("cmesh-kube-churn");
  auto& fields = *node_.mutable_metadata()->mutable_fields();
  (*fields["LABELS"].mutable_struct_value()->mutable_fields())["app"].set_string_value("churn-client");
  fields["NAMESPACE"].set_string_value(ns);
  fields["INSTANCE_IPS"].set_string_value(kClientIp);
  fields["CLUSTER_ID"].set_string_value("Kubernetes");
  if (!istio_version.empty()) fields["ISTIO_VERSION"].set_string_value(istio_version);
}

EdsSidecar::~EdsSidecar() { Stop(); }

EdsSidecar::Request EdsSidecar::MakeRequest(XdsType type) const {
  const TypeState& state = types_[Index(type)];
  Request request;
  request.set_type_url(std::string(xds_load::TypeUrl(type)));
  request.set_version_info(state.version);
  request.set_response_nonce(state.nonce);
  for (const auto& name : state.names) request.add_resource_names(name);
  return request;
}

void EdsSidecar::Start() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
  stub_ = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel_);
  // A server started a moment ago may not listen yet: wait for it rather than fail the stream.
  context_.set_wait_for_ready(true);
  stream_ = stub_->StreamAggregatedResources(&context_);
  Request cds = MakeRequest(XdsType::kCds);
  *cds.mutable_node() = node_;
  stream_->Write(cds);
  stream_->Write(MakeRequest(XdsType::kLds));
  reader_ = std::thread([this] { ReadLoop(); });
}

void EdsSidecar::Stop() {
  if (!reader_.joinable()) return;
  context_.TryCancel();
  reader_.join();
}

std::string EdsSidecar::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

SidecarCounters EdsSidecar::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::size_t EdsSidecar::eds_subscription_size() const {
  std::lock_guard lock(mu_);
  return eds_names_;
}

void EdsSidecar::ReadLoop() {
  Response response;
  while (stream_->Read(&response)) Handle(response);
  const grpc::Status status = stream_->Finish();
  std::lock_guard lock(mu_);
  ended_ = "stream ended: " + std::to_string(static_cast<int>(status.error_code())) + " " + status.error_message();
}

void EdsSidecar::Handle(const Response& response) {
  const Clock::time_point received = Clock::now();
  const auto type = xds_load::TypeFromUrl(response.type_url());
  {
    std::lock_guard lock(mu_);
    counters_.bytes += response.ByteSizeLong();
    if (type) ++counters_.responses[Index(*type)];
  }
  if (!type) return;  // nothing to ACK against
  TypeState& state = types_[Index(*type)];
  state.nonce = response.nonce();
  std::vector<Request> out;
  bool nack = false;
  if (*type == XdsType::kEds) {
    for (const auto& any : response.resources()) {
      envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
      if (!any.UnpackTo(&assignment)) {
        nack = true;
        continue;
      }
      std::set<std::string> ips;
      for (const auto& locality : assignment.endpoints()) {
        for (const auto& endpoint : locality.lb_endpoints()) {
          if (Usable(endpoint) && endpoint.has_endpoint()) {
            ips.insert(endpoint.endpoint().address().socket_address().address());
          }
        }
      }
      tracker_->Update(assignment.cluster_name(), std::move(ips), received);
    }
  } else {
    const xds_load::ResponseDigest digest = xds_load::DecodeResponse(*type, response);
    nack = !digest.errors.empty();
    // CDS names the EDS clusters, LDS the route configurations: subscribe before the ACK.
    const XdsType next = *type == XdsType::kCds ? XdsType::kEds : XdsType::kRds;
    if (!nack && (*type == XdsType::kCds || *type == XdsType::kLds) && types_[Index(next)].names != digest.references) {
      types_[Index(next)].names = digest.references;
      if (next == XdsType::kEds) {
        std::lock_guard lock(mu_);
        eds_names_ = digest.references.size();
      }
      out.push_back(MakeRequest(next));
    }
  }
  if (nack) {
    std::lock_guard lock(mu_);
    ++counters_.nacks;
  } else {
    state.version = response.version_info();
  }
  out.push_back(MakeRequest(*type));
  for (const auto& request : out) {
    if (!stream_->Write(request)) return;  // the stream is ending; Read fails next
  }
}

}  // namespace cmesh::kube_churn
