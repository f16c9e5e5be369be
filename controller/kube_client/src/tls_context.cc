#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <exception>

namespace cmesh::kube {

void ApplyTls(boost::asio::ssl::context& context, const TlsMaterial& tls) {
  boost::system::error_code ignored;
  if (!tls.ca_pem.empty()) {
    // Trust the cluster's CA only, not the system store cpprestsdk loaded before calling us.
    SSL_CTX_set_cert_store(context.native_handle(), X509_STORE_new());
    context.add_certificate_authority(boost::asio::buffer(tls.ca_pem), ignored);
  }
  if (!tls.cert_pem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(tls.cert_pem), ignored);
    context.use_private_key(boost::asio::buffer(tls.key_pem), boost::asio::ssl::context::pem, ignored);
  }
}

std::string CheckTls(const TlsMaterial& tls, const std::string& source) {
  try {
    boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
    boost::system::error_code ec;
    if (!tls.ca_pem.empty()) {
      SSL_CTX_set_cert_store(context.native_handle(), X509_STORE_new());
      context.add_certificate_authority(boost::asio::buffer(tls.ca_pem), ec);
      if (ec) return source + ": the certificate authority is not a valid PEM certificate: " + ec.message();
    }
    if (!tls.cert_pem.empty()) {
      context.use_certificate_chain(boost::asio::buffer(tls.cert_pem), ec);
      if (ec) return source + ": the client certificate is not a valid PEM certificate: " + ec.message();
      context.use_private_key(boost::asio::buffer(tls.key_pem), boost::asio::ssl::context::pem, ec);
      if (ec && ec.category() == boost::asio::error::get_ssl_category() &&
          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
        return source + ": the client key does not belong to the client certificate";
      }
      if (ec) return source + ": the client key is not a valid PEM private key: " + ec.message();
      if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
        return source + ": the client key does not belong to the client certificate";
      }
    }
    return "";
  } catch (const std::exception& e) {
    return source + ": cannot set up TLS: " + e.what();
  }
}

}  // namespace cmesh::kube
