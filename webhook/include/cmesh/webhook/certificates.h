// The webhook's TLS material: a self-signed CA and a serving certificate it signs, or a mounted
// pair, and when to renew. OpenSSL (libssl-dev), PEM in and out; the clock is a parameter.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::webhook {

using Clock = std::chrono::system_clock;

struct CertificateOptions {
  // The Service name the apiserver dials; always the first SAN and the subject's CN.
  std::string service_dns_name = "cmesh-pilot.istio-system.svc";
  std::vector<std::string> extra_dns_names;  // e.g. cmesh-pilot.istio-system.svc.cluster.local
  std::vector<std::string> ip_addresses;     // IPv4/IPv6 literals, e.g. 127.0.0.1 for a local pilot
  std::chrono::seconds ca_lifetime = std::chrono::hours(24 * 365 * 10);
  std::chrono::seconds serving_lifetime = std::chrono::hours(24 * 365);
  std::string organization = "cmesh";
};

// A key pair and its certificate, PEM.
struct KeyAndCertificate {
  std::string certificate_pem;
  std::string private_key_pem;  // PKCS#8
  Clock::time_point not_before;
  Clock::time_point not_after;
};

// What the HTTPS listener serves, and the caBundle for the webhook configurations.
struct ServingCertificate {
  KeyAndCertificate serving;
  std::string ca_bundle_pem;  // the CA that signed `serving` (caBundle is its base64)
};

// A new CA (ECDSA P-256, CA:TRUE, keyCertSign), valid from `now` - 1 minute (clock skew) for
// ca_lifetime. nullopt and *error when OpenSSL fails.
std::optional<KeyAndCertificate> CreateCertificateAuthority(const CertificateOptions& options, Clock::time_point now,
                                                            std::string* error);

// A serving certificate (ECDSA P-256, serverAuth, SANs: the service name, extra names, IPs) signed
// by `ca`. Its expiry never passes the CA's. An IP that is not a valid literal is an error.
std::optional<ServingCertificate> IssueServingCertificate(const KeyAndCertificate& ca, const CertificateOptions& options,
                                                          Clock::time_point now, std::string* error);

// Both at once: what cmesh-pilot does at start when nothing is mounted.
std::optional<ServingCertificate> CreateSelfSignedServing(const CertificateOptions& options, Clock::time_point now,
                                                          std::string* error);

// Renewal is due once two thirds of the lifetime have passed (a third left), or when `now` is
// outside [not_before, not_after].
bool RenewalDue(Clock::time_point not_before, Clock::time_point not_after, Clock::time_point now);

// A mounted pair in `dir`, with Kubernetes' TLS Secret names: tls.crt, tls.key, and ca.crt when
// present (else the chain's last certificate is the bundle). nullopt without *error when tls.crt
// and tls.key are both absent (then create one); nullopt with *error when they are unreadable, do
// not parse, or the key does not match the certificate.
std::optional<ServingCertificate> LoadMountedCertificate(const std::string& dir, std::string* error);

// The same from PEM text (ca_pem may be empty).
std::optional<ServingCertificate> LoadCertificatePair(const std::string& certificate_pem, const std::string& key_pem,
                                                      const std::string& ca_pem, std::string* error);

}  // namespace cmesh::webhook
