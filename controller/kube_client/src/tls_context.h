// TLS for RestKubeClient's connections: the cluster's CA as the only trust anchor, and the client
// certificate and key. Private to the library (it needs cpprestsdk's Boost.Asio SSL context).
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>

namespace cmesh::kube {

// Parsed once from the KubeConfig, applied to every new connection.
struct TlsMaterial {
  std::string ca_pem;    // empty: the system's trust store
  std::string cert_pem;  // empty: no client certificate
  std::string key_pem;
};

// Loads the material into a connection's context. Runs inside cpprestsdk's connection setup, where
// an exception would be lost, so it never throws; CheckTls proved beforehand that it loads.
void ApplyTls(boost::asio::ssl::context& context, const TlsMaterial& tls);

// Empty when the material loads into an OpenSSL context (and the key matches the certificate);
// otherwise what is wrong, prefixed with `source`.
std::string CheckTls(const TlsMaterial& tls, const std::string& source);

}  // namespace cmesh::kube
