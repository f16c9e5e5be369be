// The serving certificate over time: self-made and renewed from the same CA, or mounted.
#include <gtest/gtest.h>

#include "cmesh/webhook/certificate_source.h"
#include "temp_dir.h"

namespace cmesh::webhook {
namespace {

using namespace std::chrono_literals;
using Change = CertificateSource::Change;

const Clock::time_point kStart = Clock::from_time_t(1772323200);  // 2026-03-01T00:00:00Z

CertificateOptions Options() {
  CertificateOptions o;
  o.serving_lifetime = 24h * 30;  // renewal due after 20 days
  return o;
}

TEST(CertificateSourceTest, SelfMadeIsRenewedFromTheSameCa) {
  CertificateSource source(Options(), "");
  std::string error;
  EXPECT_FALSE(source.has_current());
  EXPECT_EQ(source.Refresh(kStart, &error), Change::kServingAndCa) << error;
  ASSERT_TRUE(source.has_current());
  EXPECT_FALSE(source.mounted());
  const ServingCertificate first = source.current();
  // Not due yet: nothing changes.
  EXPECT_EQ(source.Refresh(kStart + 24h * 19, &error), Change::kNone);
  EXPECT_EQ(source.current().serving.certificate_pem, first.serving.certificate_pem);
  // Due at not_after - lifetime/3: the lifetime is 30 days and the minute of clock-skew allowance,
  // so at start + 20 days - 20 s. A new serving pair, from the same CA.
  EXPECT_EQ(source.Refresh(kStart + 24h * 20, &error), Change::kServing) << error;
  EXPECT_NE(source.current().serving.certificate_pem, first.serving.certificate_pem);
  EXPECT_EQ(source.current().ca_bundle_pem, first.ca_bundle_pem);
  EXPECT_GT(source.current().serving.not_after, first.serving.not_after);
}

TEST(CertificateSourceTest, MountedPairWinsAndBrokenOneKeepsTheLastGood) {
  cmesh::testing::TempDir dir;
  std::string error;
  auto mounted = CreateSelfSignedServing(Options(), kStart, &error);
  ASSERT_TRUE(mounted) << error;
  CertificateSource source(Options(), dir.path());
  // Nothing mounted yet: self-made.
  EXPECT_EQ(source.Refresh(kStart, &error), Change::kServingAndCa);
  EXPECT_FALSE(source.mounted());
  // Mounted: used, and the CA bundle is the mounted one.
  dir.Write("tls.crt", mounted->serving.certificate_pem);
  dir.Write("tls.key", mounted->serving.private_key_pem);
  dir.Write("ca.crt", mounted->ca_bundle_pem);
  EXPECT_EQ(source.Refresh(kStart + 1h, &error), Change::kServingAndCa);
  EXPECT_TRUE(source.mounted());
  EXPECT_EQ(source.current().ca_bundle_pem, mounted->ca_bundle_pem);
  EXPECT_EQ(source.Refresh(kStart + 2h, &error), Change::kNone);
  // A broken rotation: an error, and the last good pair stays.
  dir.Write("tls.key", "garbage");
  error.clear();
  EXPECT_EQ(source.Refresh(kStart + 3h, &error), Change::kNone);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(source.current().serving.certificate_pem, mounted->serving.certificate_pem);
}

}  // namespace
}  // namespace cmesh::webhook
