// The webhook's server TLS context, exercised by real handshakes over an in-memory BIO pair (no
// sockets): TLS 1.2+ only, modern ciphers only, and the certificate a client verifies by name.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <chrono>

#include "cmesh/webhook/tls_server_context.h"

namespace cmesh::webhook {
namespace {

struct Result {
  bool ok = false;
  std::string version;
  std::string cipher;
  long verify = -1;
};

// Client context trusting `ca_pem`; `max_version` 0 = no limit; `ciphers` "" = OpenSSL's default.
std::shared_ptr<SSL_CTX> Client(const std::string& ca_pem, int max_version, const std::string& ciphers) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca);
  X509_free(ca);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (max_version != 0) {
    // Security level 0 and no minimum: the client is willing, so a refusal is the server's.
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  }
  if (!ciphers.empty()) SSL_CTX_set_cipher_list(ctx.get(), (ciphers + ":@SECLEVEL=0").c_str());
  return ctx;
}

Result Handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const std::string& host) {
  SSL* server = SSL_new(server_ctx);
  SSL* client = SSL_new(client_ctx);
  BIO* server_io = nullptr;
  BIO* client_io = nullptr;
  BIO_new_bio_pair(&server_io, 0, &client_io, 0);
  SSL_set_bio(server, server_io, server_io);
  SSL_set_bio(client, client_io, client_io);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  SSL_set_tlsext_host_name(client, host.c_str());
  SSL_set1_host(client, host.c_str());
  Result r;
  bool client_done = false;
  bool server_done = false;
  for (int i = 0; i < 50 && !(client_done && server_done); ++i) {
    if (!client_done) {
      const int rc = SSL_do_handshake(client);
      if (rc == 1) client_done = true;
      else if (SSL_get_error(client, rc) != SSL_ERROR_WANT_READ) break;
    }
    if (!server_done) {
      const int rc = SSL_do_handshake(server);
      if (rc == 1) server_done = true;
      else if (SSL_get_error(server, rc) != SSL_ERROR_WANT_READ) break;
    }
  }
  r.ok = client_done && server_done;
  r.verify = SSL_get_verify_result(client);
  if (r.ok) {
    r.version = SSL_get_version(client);
    r.cipher = SSL_get_cipher_name(client);
  }
  ERR_clear_error();
  SSL_free(client);
  SSL_free(server);
  return r;
}

class TlsServerContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    CertificateOptions options;
    options.extra_dns_names = {"localhost"};
    auto made = CreateSelfSignedServing(options, std::chrono::system_clock::now(), &error);
    ASSERT_TRUE(made) << error;
    certificate_ = *made;
    server_ = MakeServerTlsContext(certificate_, &error);
    ASSERT_TRUE(server_) << error;
  }
  ServingCertificate certificate_;
  std::shared_ptr<SSL_CTX> server_;
};

TEST_F(TlsServerContextTest, ModernClientsConnectAndVerifyTheName) {
  EXPECT_EQ(SSL_CTX_get_min_proto_version(server_.get()), TLS1_2_VERSION);
  auto client = Client(certificate_.ca_bundle_pem, 0, "");
  Result r = Handshake(server_.get(), client.get(), "cmesh-pilot.istio-system.svc");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.verify, X509_V_OK);
  EXPECT_EQ(r.version, "TLSv1.3");
  auto tls12 = Client(certificate_.ca_bundle_pem, TLS1_2_VERSION, "");
  r = Handshake(server_.get(), tls12.get(), "localhost");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.version, "TLSv1.2");
  // The server's certificate is ECDSA: of the list, the ECDHE-ECDSA AEAD suites.
  EXPECT_NE(std::string(kTls12Ciphers).find(r.cipher), std::string::npos) << r.cipher;
  EXPECT_EQ(r.cipher.rfind("ECDHE-ECDSA-", 0), 0u) << r.cipher;
}

TEST_F(TlsServerContextTest, OldProtocolsAndCiphersAreRefused) {
  auto tls11 = Client(certificate_.ca_bundle_pem, TLS1_1_VERSION, "");
  EXPECT_FALSE(Handshake(server_.get(), tls11.get(), "localhost").ok);
  // A TLS 1.2 client that offers only a CBC/SHA-1 suite the server would otherwise accept.
  auto cbc = Client(certificate_.ca_bundle_pem, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA");
  EXPECT_FALSE(Handshake(server_.get(), cbc.get(), "localhost").ok);
}

TEST_F(TlsServerContextTest, WrongNameOrWrongCaFailsVerification) {
  auto client = Client(certificate_.ca_bundle_pem, 0, "");
  EXPECT_FALSE(Handshake(server_.get(), client.get(), "cmesh-pilot.other.svc").ok);
  std::string error;
  auto other = CreateCertificateAuthority(CertificateOptions(), std::chrono::system_clock::now(), &error);
  ASSERT_TRUE(other) << error;
  auto stranger = Client(other->certificate_pem, 0, "");
  Result r = Handshake(server_.get(), stranger.get(), "cmesh-pilot.istio-system.svc");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.verify, X509_V_OK);
}

TEST_F(TlsServerContextTest, MismatchedKeyIsAnError) {
  std::string error;
  auto other = CreateSelfSignedServing(CertificateOptions(), std::chrono::system_clock::now(), &error);
  ASSERT_TRUE(other) << error;
  ServingCertificate mixed = certificate_;
  mixed.serving.private_key_pem = other->serving.private_key_pem;
  EXPECT_FALSE(MakeServerTlsContext(mixed, &error));
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
}

}  // namespace
}  // namespace cmesh::webhook
