// The OpenSSL server context the webhook's HTTPS listener uses: TLS 1.2 and 1.3 only, a modern
// cipher list (ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2; OpenSSL's TLS 1.3 suites), the
// serving certificate and key from PEM. A renewed certificate is a new context: the listener swaps
// its shared_ptr, connections in flight keep the old one, so no restart is needed.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "cmesh/webhook/certificates.h"

namespace cmesh::webhook {

// The TLS 1.2 ciphers (OpenSSL names), Mozilla's "intermediate" profile.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// nullptr and *error when the certificate or key does not load or does not match.
std::shared_ptr<SSL_CTX> MakeServerTlsContext(const ServingCertificate& certificate, std::string* error);
// The same settings on a context someone else made (the HTTPS listener's per-connection one).
bool ConfigureServerTls(SSL_CTX* context, const ServingCertificate& certificate, std::string* error);

}  // namespace cmesh::webhook
