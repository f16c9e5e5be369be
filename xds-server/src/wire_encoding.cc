#include "cmesh/xds/wire_encoding.h"

#include <cstdint>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace cmesh::xds {
namespace {

using google::protobuf::io::CodedOutputStream;

// Every field written here is length-delimited (wire type 2): strings, bytes, messages.
constexpr std::uint32_t LengthDelimitedTag(int field) { return (static_cast<std::uint32_t>(field) << 3) | 2; }

// Field numbers from envoy/service/discovery/v3/discovery.proto.
constexpr int kSotwVersionInfo = 1, kSotwResources = 2, kSotwTypeUrl = 4, kSotwNonce = 5;
constexpr int kDeltaSystemVersion = 1, kDeltaResources = 2, kDeltaTypeUrl = 4, kDeltaNonce = 5,
              kDeltaRemoved = 6;
constexpr int kResourceVersion = 1, kResourceBody = 2, kResourceName = 3;
constexpr int kAnyTypeUrl = 1, kAnyValue = 2;

void WriteString(CodedOutputStream& out, int field, std::string_view value) {
  if (value.empty()) return;  // proto3 omits default scalars
  out.WriteTag(LengthDelimitedTag(field));
  out.WriteVarint32(static_cast<std::uint32_t>(value.size()));
  out.WriteRaw(value.data(), static_cast<int>(value.size()));
}

std::size_t StringFieldSize(int field, std::string_view value) {
  if (value.empty()) return 0;
  return CodedOutputStream::VarintSize32(LengthDelimitedTag(field)) +
         CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(value.size())) + value.size();
}

std::size_t AnySize(const google::protobuf::Any& any) {
  return StringFieldSize(kAnyTypeUrl, any.type_url()) + StringFieldSize(kAnyValue, any.value());
}

// An embedded message header, then the message's fields.
void WriteMessageHeader(CodedOutputStream& out, int field, std::size_t size) {
  out.WriteTag(LengthDelimitedTag(field));
  out.WriteVarint32(static_cast<std::uint32_t>(size));
}

void WriteAny(CodedOutputStream& out, int field, const google::protobuf::Any& any) {
  WriteMessageHeader(out, field, AnySize(any));
  WriteString(out, kAnyTypeUrl, any.type_url());
  WriteString(out, kAnyValue, any.value());
}

template <typename Fn>
std::string WithStream(Fn&& fn) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    CodedOutputStream coded(&stream);
    fn(coded);
  }
  return out;
}

}  // namespace

envoy::service::discovery::v3::DiscoveryResponse ToProto(const SotwResponse& response) {
  envoy::service::discovery::v3::DiscoveryResponse proto;
  proto.set_version_info(response.version_info);
  proto.set_type_url(std::string(TypeUrl(response.type)));
  proto.set_nonce(response.nonce);
  for (const ResourcePtr& resource : response.resources) *proto.add_resources() = resource->body;
  return proto;
}

envoy::service::discovery::v3::DeltaDiscoveryResponse ToProto(const DeltaResponse& response) {
  envoy::service::discovery::v3::DeltaDiscoveryResponse proto;
  proto.set_system_version_info(response.system_version_info);
  proto.set_type_url(std::string(TypeUrl(response.type)));
  proto.set_nonce(response.nonce);
  for (const ResourcePtr& resource : response.resources) {
    auto* out = proto.add_resources();
    out->set_name(resource->name);
    out->set_version(resource->version);
    *out->mutable_resource() = resource->body;
  }
  for (const std::string& name : response.removed) proto.add_removed_resources(name);
  return proto;
}

std::string Encode(const SotwResponse& response) {
  return WithStream([&](CodedOutputStream& out) {
    WriteString(out, kSotwVersionInfo, response.version_info);
    for (const ResourcePtr& resource : response.resources) WriteAny(out, kSotwResources, resource->body);
    WriteString(out, kSotwTypeUrl, TypeUrl(response.type));
    WriteString(out, kSotwNonce, response.nonce);
  });
}

std::string Encode(const DeltaResponse& response) {
  return WithStream([&](CodedOutputStream& out) {
    WriteString(out, kDeltaSystemVersion, response.system_version_info);
    for (const ResourcePtr& resource : response.resources) {
      std::size_t any_size = AnySize(resource->body);
      std::size_t size = StringFieldSize(kResourceVersion, resource->version) +
                         CodedOutputStream::VarintSize32(LengthDelimitedTag(kResourceBody)) +
                         CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(any_size)) + any_size +
                         StringFieldSize(kResourceName, resource->name);
      WriteMessageHeader(out, kDeltaResources, size);
      WriteString(out, kResourceVersion, resource->version);
      WriteAny(out, kResourceBody, resource->body);
      WriteString(out, kResourceName, resource->name);
    }
    WriteString(out, kDeltaTypeUrl, TypeUrl(response.type));
    WriteString(out, kDeltaNonce, response.nonce);
    for (const std::string& name : response.removed) {
      // Repeated strings keep empty elements on the wire.
      out.WriteTag(LengthDelimitedTag(kDeltaRemoved));
      out.WriteVarint32(static_cast<std::uint32_t>(name.size()));
      out.WriteRaw(name.data(), static_cast<int>(name.size()));
    }
  });
}

}  // namespace cmesh::xds
