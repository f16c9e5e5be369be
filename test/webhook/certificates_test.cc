// The webhook's certificates, checked with OpenSSL's own verification.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>

#include "cmesh/webhook/certificates.h"
#include "temp_dir.h"

namespace cmesh::webhook {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using namespace std::chrono_literals;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert Parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Cert cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

// X509_verify_cert of `leaf` against `ca` at time `at`, for the TLS server purpose. Returns the
// verification error (X509_V_OK when it verifies).
int Verify(X509* leaf, X509* ca, Clock::time_point at) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  X509_STORE_CTX_set_time(ctx, 0, Clock::to_time_t(at));
  const int ok = X509_verify_cert(ctx);
  const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return error;
}

std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                                         static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName))));
    } else if (name->type == GEN_IPADD) {
      const unsigned char* b = ASN1_STRING_get0_data(name->d.iPAddress);
      if (ASN1_STRING_length(name->d.iPAddress) == 4) {
        out.push_back("IP:" + std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
                      std::to_string(b[3]));
      } else {
        out.push_back("IP6:" + std::to_string(ASN1_STRING_length(name->d.iPAddress)));
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// A fixed "now" so the figures below are exact: 2026-03-01T00:00:00Z.
const Clock::time_point kNow = Clock::from_time_t(1772323200);

CertificateOptions Options() {
  CertificateOptions o;
  o.extra_dns_names = {"cmesh-pilot.istio-system.svc.cluster.local", "localhost"};
  o.ip_addresses = {"127.0.0.1", "::1"};
  o.serving_lifetime = 24h * 90;
  return o;
}

TEST(CertificatesTest, ServingCertificateVerifiesAgainstItsCaAndCarriesTheSans) {
  std::string error;
  auto serving = CreateSelfSignedServing(Options(), kNow, &error);
  ASSERT_TRUE(serving) << error;
  Cert leaf = Parse(serving->serving.certificate_pem);
  Cert ca = Parse(serving->ca_bundle_pem);
  ASSERT_TRUE(leaf && ca);
  EXPECT_EQ(Verify(leaf.get(), ca.get(), kNow), X509_V_OK);
  EXPECT_THAT(SubjectAltNames(leaf.get()),
              UnorderedElementsAre("DNS:cmesh-pilot.istio-system.svc", "DNS:cmesh-pilot.istio-system.svc.cluster.local",
                                   "DNS:localhost", "IP:127.0.0.1", "IP6:16"));
  // Hostname and IP checks as a TLS client makes them.
  const std::string host = "cmesh-pilot.istio-system.svc";
  EXPECT_EQ(X509_check_host(leaf.get(), host.data(), host.size(), 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "other.svc", 9, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  // Validity: one minute back for clock skew, 90 days ahead.
  EXPECT_EQ(serving->serving.not_before, kNow - 1min);
  EXPECT_EQ(serving->serving.not_after, kNow + 24h * 90);
  // Outside it, verification fails with the expiry error.
  EXPECT_EQ(Verify(leaf.get(), ca.get(), kNow + 24h * 91), X509_V_ERR_CERT_HAS_EXPIRED);
  // Another CA does not verify it.
  auto other = CreateCertificateAuthority(Options(), kNow, &error);
  ASSERT_TRUE(other);
  Cert other_ca = Parse(other->certificate_pem);
  EXPECT_NE(Verify(leaf.get(), other_ca.get(), kNow), X509_V_OK);
}

TEST(CertificatesTest, ReissuingFromTheSameCaKeepsTheBundle) {
  std::string error;
  auto ca = CreateCertificateAuthority(Options(), kNow, &error);
  ASSERT_TRUE(ca) << error;
  auto first = IssueServingCertificate(*ca, Options(), kNow, &error);
  auto renewed = IssueServingCertificate(*ca, Options(), kNow + 24h * 60, &error);
  ASSERT_TRUE(first && renewed) << error;
  EXPECT_EQ(first->ca_bundle_pem, renewed->ca_bundle_pem);
  EXPECT_NE(first->serving.certificate_pem, renewed->serving.certificate_pem);
  Cert ca_cert = Parse(ca->certificate_pem);
  EXPECT_EQ(Verify(Parse(renewed->serving.certificate_pem).get(), ca_cert.get(), kNow + 24h * 61), X509_V_OK);
  // The serving certificate never outlives its CA.
  CertificateOptions short_ca = Options();
  short_ca.ca_lifetime = 24h * 10;
  auto small = CreateCertificateAuthority(short_ca, kNow, &error);
  auto capped = IssueServingCertificate(*small, Options(), kNow, &error);
  ASSERT_TRUE(capped) << error;
  EXPECT_EQ(capped->serving.not_after, small->not_after);
}

TEST(CertificatesTest, BadIpAddressIsAnError) {
  CertificateOptions o = Options();
  o.ip_addresses = {"10.0.0.300"};
  std::string error;
  EXPECT_FALSE(CreateSelfSignedServing(o, kNow, &error));
  EXPECT_THAT(error, HasSubstr("\"10.0.0.300\" is not an IPv4 or IPv6 address"));
}

TEST(CertificatesTest, RenewalIsDueWithAThirdOfTheLifetimeLeft) {
  const Clock::time_point start = kNow;
  const Clock::time_point end = kNow + 90 * 24h;  // a third: 30 days
  EXPECT_FALSE(RenewalDue(start, end, start));
  EXPECT_FALSE(RenewalDue(start, end, start + 60 * 24h - 1s));
  EXPECT_TRUE(RenewalDue(start, end, start + 60 * 24h));
  EXPECT_TRUE(RenewalDue(start, end, end + 1s));      // expired
  EXPECT_TRUE(RenewalDue(start, end, start - 1h));    // not valid yet
}

TEST(CertificatesTest, LoadsAMountedPair) {
  std::string error;
  auto made = CreateSelfSignedServing(Options(), kNow, &error);
  ASSERT_TRUE(made) << error;
  cmesh::testing::TempDir dir;
  // Nothing mounted: no certificate and no error (the caller then creates one).
  EXPECT_FALSE(LoadMountedCertificate(dir.path(), &error));
  error.clear();
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() + "/" + name) << text;
  };
  write("tls.crt", made->serving.certificate_pem);
  EXPECT_FALSE(LoadMountedCertificate(dir.path(), &error));
  EXPECT_THAT(error, HasSubstr("tls.key is missing"));
  write("tls.key", made->serving.private_key_pem);
  write("ca.crt", made->ca_bundle_pem);
  error.clear();
  auto loaded = LoadMountedCertificate(dir.path(), &error);
  ASSERT_TRUE(loaded) << error;
  EXPECT_EQ(loaded->ca_bundle_pem, made->ca_bundle_pem);
  EXPECT_EQ(loaded->serving.not_before, made->serving.not_before);
  EXPECT_EQ(loaded->serving.not_after, made->serving.not_after);
  // A key that is not the certificate's.
  auto other = CreateSelfSignedServing(Options(), kNow, &error);
  write("tls.key", other->serving.private_key_pem);
  EXPECT_FALSE(LoadMountedCertificate(dir.path(), &error));
  EXPECT_THAT(error, HasSubstr("does not match"));
  write("tls.crt", "garbage");
  EXPECT_FALSE(LoadMountedCertificate(dir.path(), &error));
  EXPECT_THAT(error, HasSubstr("not PEM"));
}

}  // namespace
}  // namespace cmesh::webhook
