#include "cmesh/xds/wire_encoding.h"

#include <google/protobuf/util/message_differencer.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_resources.h"

namespace cmesh::xds {
namespace {

using google::protobuf::util::MessageDifferencer;
using namespace cmesh::xds::testing;

SotwResponse SampleSotw() {
  SnapshotPtr snapshot = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}});
  SotwResponse response{ResourceType::kCluster, snapshot->Version(ResourceType::kCluster), "17", {}};
  for (const auto& [name, resource] : snapshot->Resources(ResourceType::kCluster)) {
    response.resources.push_back(resource);
  }
  return response;
}

TEST(WireEncodingTest, SotwProtoCarriesTypeUrlVersionNonceAndResources) {
  auto proto = ToProto(SampleSotw());
  EXPECT_EQ(proto.type_url(), kClusterTypeUrl);
  EXPECT_EQ(proto.nonce(), "17");
  ASSERT_EQ(proto.resources_size(), 2);
  for (const auto& any : proto.resources()) EXPECT_EQ(any.type_url(), proto.type_url());
  envoy::config::cluster::v3::Cluster cluster;
  ASSERT_TRUE(proto.resources(1).UnpackTo(&cluster));
  EXPECT_EQ(cluster.name(), "b");
  EXPECT_EQ(cluster.type(), envoy::config::cluster::v3::Cluster::EDS);
}

TEST(WireEncodingTest, SotwEncodingParsesToTheSameMessageAndBytes) {
  SotwResponse response = SampleSotw();
  std::string wire = Encode(response);
  envoy::service::discovery::v3::DiscoveryResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, ToProto(response)));
  // Fields written in field-number order, as protobuf does: identical bytes.
  EXPECT_EQ(wire, ToProto(response).SerializeAsString());
}

TEST(WireEncodingTest, EmptySotwResponseStillNamesItsType) {
  SotwResponse response{ResourceType::kListener, "v0", "1", {}};
  envoy::service::discovery::v3::DiscoveryResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(Encode(response)));
  EXPECT_EQ(parsed.type_url(), kListenerTypeUrl);
  EXPECT_EQ(parsed.resources_size(), 0);
  EXPECT_EQ(parsed.version_info(), "v0");
}

TEST(WireEncodingTest, DeltaEncodingCarriesNamesVersionsAndRemovals) {
  SnapshotPtr snapshot = MeshSnapshot({{"a", "10.0.0.1"}});
  DeltaResponse response{ResourceType::kEndpoint, snapshot->Version(ResourceType::kEndpoint), "3",
                         {snapshot->Find(ResourceType::kEndpoint, "a")}, {"gone", "also-gone"}};
  std::string wire = Encode(response);
  envoy::service::discovery::v3::DeltaDiscoveryResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, ToProto(response)));
  EXPECT_EQ(wire, ToProto(response).SerializeAsString());
  ASSERT_EQ(parsed.resources_size(), 1);
  EXPECT_EQ(parsed.resources(0).name(), "a");
  EXPECT_EQ(parsed.resources(0).version(), snapshot->Find(ResourceType::kEndpoint, "a")->version);
  EXPECT_EQ(parsed.resources(0).resource().type_url(), kEndpointTypeUrl);
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  ASSERT_TRUE(parsed.resources(0).resource().UnpackTo(&assignment));
  EXPECT_EQ(assignment.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address(), "10.0.0.1");
  EXPECT_THAT(parsed.removed_resources(), ::testing::ElementsAre("gone", "also-gone"));
}

TEST(WireEncodingTest, LargeResourcesKeepCorrectLengthPrefixes) {
  // Over 16 KiB, so length varints take three bytes.
  std::vector<std::string> ips;
  envoy::config::endpoint::v3::ClusterLoadAssignment big = Assignment("big", {});
  for (int i = 0; i < 2000; ++i) {
    auto* address = big.mutable_endpoints(0)->add_lb_endpoints()->mutable_endpoint()->mutable_address()
                        ->mutable_socket_address();
    address->set_address("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250));
    address->set_port_value(8080);
  }
  ResourcePtr resource = MakeResource(big);
  ASSERT_GT(resource->body.value().size(), 16384u);
  DeltaResponse delta{ResourceType::kEndpoint, "v", "n", {resource}, {}};
  SotwResponse sotw{ResourceType::kEndpoint, "v", "n", {resource}};
  EXPECT_EQ(Encode(delta), ToProto(delta).SerializeAsString());
  EXPECT_EQ(Encode(sotw), ToProto(sotw).SerializeAsString());
}

std::string Joined(const std::vector<WirePiece>& pieces) {
  std::string out;
  for (const WirePiece& piece : pieces) out.append(piece.bytes());
  return out;
}

TEST(WireEncodingTest, PiecesJoinToTheSameBytesWhateverIsShared) {
  SnapshotPtr snapshot = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}});
  DeltaResponse delta{ResourceType::kEndpoint, "v", "n",
                      {snapshot->Find(ResourceType::kEndpoint, "a"), snapshot->Find(ResourceType::kEndpoint, "b")},
                      {"gone", ""}};
  for (std::size_t share_from : {std::size_t{0}, std::size_t{1}, kShareValuesFrom, SIZE_MAX}) {
    EXPECT_EQ(Joined(EncodePieces(SampleSotw(), share_from)), ToProto(SampleSotw()).SerializeAsString()) << share_from;
    EXPECT_EQ(Joined(EncodePieces(delta, share_from)), ToProto(delta).SerializeAsString()) << share_from;
  }
}

TEST(WireEncodingTest, LargeValuesAreViewedInPlaceNotCopied) {
  SnapshotPtr snapshot = MeshSnapshot({{"a", "10.0.0.1"}});
  ResourcePtr resource = snapshot->Find(ResourceType::kCluster, "a");
  SotwResponse response{ResourceType::kCluster, "v", "n", {resource}};
  // Shared from 1 byte: the value becomes a piece viewing the resource's own string.
  std::vector<WirePiece> pieces = EncodePieces(response, 1);
  ASSERT_EQ(pieces.size(), 3u);  // version + Any header, the value, type_url + nonce
  EXPECT_EQ(pieces[1].owner, resource);
  EXPECT_EQ(pieces[1].shared.data(), resource->body.value().data());
  EXPECT_EQ(pieces[1].shared.size(), resource->body.value().size());
  // Below the threshold everything is copied into a single piece.
  std::vector<WirePiece> copied = EncodePieces(response, SIZE_MAX);
  ASSERT_EQ(copied.size(), 1u);
  EXPECT_EQ(copied[0].owner, nullptr);
}

}  // namespace
}  // namespace cmesh::xds
