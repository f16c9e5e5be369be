#include "cmesh/xds/wire_encoding.h"

#include <cstdint>
#include <string_view>
#include <utility>

#include <google/protobuf/io/coded_stream.h>

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

std::size_t StringFieldSize(int field, std::string_view value) {
  if (value.empty()) return 0;
  return CodedOutputStream::VarintSize32(LengthDelimitedTag(field)) +
         CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(value.size())) + value.size();
}

std::size_t AnySize(const google::protobuf::Any& any) {
  return StringFieldSize(kAnyTypeUrl, any.type_url()) + StringFieldSize(kAnyValue, any.value());
}

// Appends to an owned piece; a large resource value becomes a piece of its own that views the
// resource's bytes. With share_from = SIZE_MAX everything lands in one owned piece.
class PieceWriter {
 public:
  explicit PieceWriter(std::size_t share_from) : share_from_(share_from) {}

  void Varint(std::uint32_t value) {
    while (value >= 0x80) {
      current_.push_back(static_cast<char>((value & 0x7f) | 0x80));
      value >>= 7;
    }
    current_.push_back(static_cast<char>(value));
  }
  void Header(int field, std::size_t size) {
    Varint(LengthDelimitedTag(field));
    Varint(static_cast<std::uint32_t>(size));
  }
  // A string field; proto3 omits empty scalars, repeated strings keep empty elements.
  void String(int field, std::string_view value, bool keep_empty = false) {
    if (value.empty() && !keep_empty) return;
    Header(field, value.size());
    current_.append(value);
  }
  void Any(int field, const ResourcePtr& resource) {
    const google::protobuf::Any& any = resource->body;
    Header(field, AnySize(any));
    String(kAnyTypeUrl, any.type_url());
    const std::string& value = any.value();
    if (value.empty() || value.size() < share_from_) {
      String(kAnyValue, value);
      return;
    }
    Header(kAnyValue, value.size());
    Flush();
    pieces_.push_back(WirePiece{{}, value, resource});
  }

  std::vector<WirePiece> Take() && {
    Flush();
    return std::move(pieces_);
  }

 private:
  void Flush() {
    if (current_.empty()) return;
    pieces_.push_back(WirePiece{std::move(current_), {}, nullptr});
    current_.clear();
  }

  std::size_t share_from_;
  std::string current_;
  std::vector<WirePiece> pieces_;
};

std::string Join(std::vector<WirePiece> pieces) {
  if (pieces.size() == 1 && !pieces[0].owner) return std::move(pieces[0].owned);
  std::string out;
  for (const WirePiece& piece : pieces) out.append(piece.bytes());
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

std::vector<WirePiece> EncodePieces(const SotwResponse& response, std::size_t share_from) {
  PieceWriter out(share_from);
  // Fields in field-number order, as protobuf writes them: byte-identical output.
  out.String(kSotwVersionInfo, response.version_info);
  for (const ResourcePtr& resource : response.resources) out.Any(kSotwResources, resource);
  out.String(kSotwTypeUrl, TypeUrl(response.type));
  out.String(kSotwNonce, response.nonce);
  return std::move(out).Take();
}

std::vector<WirePiece> EncodePieces(const DeltaResponse& response, std::size_t share_from) {
  PieceWriter out(share_from);
  out.String(kDeltaSystemVersion, response.system_version_info);
  for (const ResourcePtr& resource : response.resources) {
    std::size_t any_size = AnySize(resource->body);
    std::size_t size = StringFieldSize(kResourceVersion, resource->version) +
                       CodedOutputStream::VarintSize32(LengthDelimitedTag(kResourceBody)) +
                       CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(any_size)) + any_size +
                       StringFieldSize(kResourceName, resource->name);
    out.Header(kDeltaResources, size);
    out.String(kResourceVersion, resource->version);
    out.Any(kResourceBody, resource);
    out.String(kResourceName, resource->name);
  }
  out.String(kDeltaTypeUrl, TypeUrl(response.type));
  out.String(kDeltaNonce, response.nonce);
  for (const std::string& name : response.removed) out.String(kDeltaRemoved, name, /*keep_empty=*/true);
  return std::move(out).Take();
}

std::string Encode(const SotwResponse& response) { return Join(EncodePieces(response, SIZE_MAX)); }
std::string Encode(const DeltaResponse& response) { return Join(EncodePieces(response, SIZE_MAX)); }

}  // namespace cmesh::xds
