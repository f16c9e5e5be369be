#include "cmesh/webhook/tls_server_context.h"

#include "openssl_error.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace cmesh::webhook {
std::shared_ptr<SSL_CTX> MakeServerTlsContext(const ServingCertificate& certificate, std::string* error) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) {
    *error = OpenSslError("SSL_CTX_new");
    return nullptr;
  }
  if (!ConfigureServerTls(ctx.get(), certificate, error)) return nullptr;
  return ctx;
}

bool ConfigureServerTls(SSL_CTX* c, const ServingCertificate& certificate, std::string* error) {
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) {
    *error = OpenSslError("TLS settings");
    return false;
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);

  const std::string& pem = certificate.serving.certificate_pem;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* leaf = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  bool ok = leaf != nullptr && SSL_CTX_use_certificate(c, leaf) == 1;
  X509_free(leaf);
  // The rest of the chain, if the mounted tls.crt carries intermediates.
  while (ok) {
    X509* next = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (next == nullptr) break;
    ok = SSL_CTX_add0_chain_cert(c, next) == 1;
    if (!ok) X509_free(next);
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the PEM input reads as an error
  if (!ok) {
    *error = "the serving certificate does not load";
    return false;
  }
  const std::string& key_pem = certificate.serving.private_key_pem;
  bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  ok = key != nullptr && SSL_CTX_use_PrivateKey(c, key) == 1 && SSL_CTX_check_private_key(c) == 1;
  EVP_PKEY_free(key);
  if (!ok) {
    *error = OpenSslError("the serving key does not load or does not match the certificate");
    return false;
  }
  return true;
}

}  // namespace cmesh::webhook
