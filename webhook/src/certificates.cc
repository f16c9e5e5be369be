#include "cmesh/webhook/certificates.h"

#include "openssl_error.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

namespace cmesh::webhook {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;


std::time_t ToTimeT(Clock::time_point t) { return Clock::to_time_t(t); }

std::optional<Clock::time_point> FromAsn1(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return Clock::from_time_t(timegm(&tm));
}

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256")); }

std::optional<std::string> ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return std::nullopt;
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::optional<std::string> ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return std::nullopt;
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` with a random 128-bit serial, the validity and the subject set.
CertPtr NewCertificate(EVP_PKEY* key, const std::string& common_name, const std::string& organization,
                       Clock::time_point not_before, Clock::time_point not_after) {
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return nullptr;
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return nullptr;
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), ToTimeT(not_after)) == nullptr) {
    return nullptr;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                                      -1, -1, 0) == 1;
  };
  if (!add("O", organization) || !add("CN", common_name)) return nullptr;
  if (X509_set_pubkey(cert.get(), key) != 1) return nullptr;
  return cert;
}

// subjectAltName built from typed entries (not a config string, so a name cannot smuggle in
// another entry).
bool AddSubjectAltNames(X509* cert, const std::vector<std::string>& dns, const std::vector<std::string>& ips,
                        std::string* error) {
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  if (names == nullptr) return false;
  auto fail = [&](const std::string& why) {
    GENERAL_NAMES_free(names);
    *error = why;
    return false;
  };
  for (const std::string& name : dns) {
    if (name.empty()) return fail("an empty DNS name");
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    GENERAL_NAME* entry = GENERAL_NAME_new();
    if (text == nullptr || entry == nullptr || ASN1_STRING_set(text, name.data(), static_cast<int>(name.size())) != 1) {
      ASN1_IA5STRING_free(text);
      GENERAL_NAME_free(entry);
      return fail(OpenSslError("subjectAltName"));
    }
    GENERAL_NAME_set0_value(entry, GEN_DNS, text);
    sk_GENERAL_NAME_push(names, entry);
  }
  for (const std::string& ip : ips) {
    unsigned char bytes[16];
    int size = 0;
    if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
      size = 4;
    } else if (inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
      size = 16;
    } else {
      return fail("\"" + ip + "\" is not an IPv4 or IPv6 address");
    }
    ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
    GENERAL_NAME* entry = GENERAL_NAME_new();
    if (octets == nullptr || entry == nullptr || ASN1_OCTET_STRING_set(octets, bytes, size) != 1) {
      ASN1_OCTET_STRING_free(octets);
      GENERAL_NAME_free(entry);
      return fail(OpenSslError("subjectAltName"));
    }
    GENERAL_NAME_set0_value(entry, GEN_IPADD, octets);
    sk_GENERAL_NAME_push(names, entry);
  }
  const bool ok = X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
  GENERAL_NAMES_free(names);
  if (!ok) *error = OpenSslError("subjectAltName");
  return ok;
}

std::optional<KeyAndCertificate> Finish(X509* cert, EVP_PKEY* key, Clock::time_point not_before,
                                        Clock::time_point not_after, std::string* error) {
  auto cert_pem = ToPem(cert);
  auto key_pem = ToPem(key);
  if (!cert_pem || !key_pem) {
    *error = OpenSslError("writing PEM");
    return std::nullopt;
  }
  // What the certificate says, at its one-second precision.
  return KeyAndCertificate{*cert_pem, *key_pem, FromAsn1(X509_get0_notBefore(cert)).value_or(not_before),
                           FromAsn1(X509_get0_notAfter(cert)).value_or(not_after)};
}

CertPtr ReadCertificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

KeyPtr ReadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Every certificate of a PEM chain, in order.
std::vector<CertPtr> ReadChain(const std::string& pem) {
  std::vector<CertPtr> chain;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return chain;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) chain.emplace_back(cert);
  ERR_clear_error();  // the end of the input reads as an error
  return chain;
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<KeyAndCertificate> CreateCertificateAuthority(const CertificateOptions& options, Clock::time_point now,
                                                            std::string* error) {
  KeyPtr key = NewKey();
  if (!key) {
    *error = OpenSslError("generating the CA key");
    return std::nullopt;
  }
  const Clock::time_point not_before = now - std::chrono::minutes(1);
  const Clock::time_point not_after = now + options.ca_lifetime;
  CertPtr cert = NewCertificate(key.get(), options.organization + " webhook CA", options.organization, not_before,
                                not_after);
  if (!cert || X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      !AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
      !AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    *error = OpenSslError("creating the CA certificate");
    return std::nullopt;
  }
  return Finish(cert.get(), key.get(), not_before, not_after, error);
}

std::optional<ServingCertificate> IssueServingCertificate(const KeyAndCertificate& ca, const CertificateOptions& options,
                                                          Clock::time_point now, std::string* error) {
  CertPtr ca_cert = ReadCertificate(ca.certificate_pem);
  KeyPtr ca_key = ReadKey(ca.private_key_pem);
  if (!ca_cert || !ca_key) {
    *error = OpenSslError("reading the CA");
    return std::nullopt;
  }
  KeyPtr key = NewKey();
  if (!key) {
    *error = OpenSslError("generating the serving key");
    return std::nullopt;
  }
  const Clock::time_point not_before = now - std::chrono::minutes(1);
  Clock::time_point not_after = now + options.serving_lifetime;
  if (auto ca_end = FromAsn1(X509_get0_notAfter(ca_cert.get())); ca_end && *ca_end < not_after) not_after = *ca_end;
  CertPtr cert = NewCertificate(key.get(), options.service_dns_name, options.organization, not_before, not_after);
  std::vector<std::string> dns = {options.service_dns_name};
  for (const auto& name : options.extra_dns_names) {
    if (name != options.service_dns_name) dns.push_back(name);
  }
  std::string san_error;
  if (!cert || X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1 ||
      !AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always")) {
    *error = OpenSslError("creating the serving certificate");
    return std::nullopt;
  }
  if (!AddSubjectAltNames(cert.get(), dns, options.ip_addresses, &san_error)) {
    *error = "serving certificate: " + san_error;
    return std::nullopt;
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    *error = OpenSslError("signing the serving certificate");
    return std::nullopt;
  }
  auto serving = Finish(cert.get(), key.get(), not_before, not_after, error);
  if (!serving) return std::nullopt;
  return ServingCertificate{std::move(*serving), ca.certificate_pem};
}

std::optional<ServingCertificate> CreateSelfSignedServing(const CertificateOptions& options, Clock::time_point now,
                                                          std::string* error) {
  auto ca = CreateCertificateAuthority(options, now, error);
  if (!ca) return std::nullopt;
  return IssueServingCertificate(*ca, options, now, error);
}

bool RenewalDue(Clock::time_point not_before, Clock::time_point not_after, Clock::time_point now) {
  if (now < not_before || now >= not_after) return true;
  return now >= not_after - (not_after - not_before) / 3;
}

std::optional<ServingCertificate> LoadCertificatePair(const std::string& certificate_pem, const std::string& key_pem,
                                                      const std::string& ca_pem, std::string* error) {
  std::vector<CertPtr> chain = ReadChain(certificate_pem);
  if (chain.empty()) {
    *error = "the certificate is not PEM (no CERTIFICATE block)";
    return std::nullopt;
  }
  KeyPtr key = ReadKey(key_pem);
  if (!key) {
    *error = OpenSslError("the private key is not PEM");
    return std::nullopt;
  }
  if (X509_check_private_key(chain[0].get(), key.get()) != 1) {
    ERR_clear_error();
    *error = "the private key does not match the certificate";
    return std::nullopt;
  }
  auto not_before = FromAsn1(X509_get0_notBefore(chain[0].get()));
  auto not_after = FromAsn1(X509_get0_notAfter(chain[0].get()));
  if (!not_before || !not_after) {
    *error = "the certificate's validity cannot be read";
    return std::nullopt;
  }
  ServingCertificate out;
  out.serving = {certificate_pem, key_pem, *not_before, *not_after};
  if (!ca_pem.empty()) {
    if (ReadChain(ca_pem).empty()) {
      *error = "ca.crt is not PEM (no CERTIFICATE block)";
      return std::nullopt;
    }
    out.ca_bundle_pem = ca_pem;
  } else {
    // No CA given: the chain's last certificate (the leaf itself when it is alone).
    auto pem = ToPem(chain.back().get());
    out.ca_bundle_pem = pem.value_or("");
  }
  return out;
}

std::optional<ServingCertificate> LoadMountedCertificate(const std::string& dir, std::string* error) {
  auto cert = ReadWholeFile(dir + "/tls.crt");
  auto key = ReadWholeFile(dir + "/tls.key");
  if (!cert && !key) return std::nullopt;
  if (!cert || !key) {
    *error = dir + ": " + (cert ? "tls.key" : "tls.crt") + " is missing or unreadable";
    return std::nullopt;
  }
  auto ca = ReadWholeFile(dir + "/ca.crt");
  auto loaded = LoadCertificatePair(*cert, *key, ca.value_or(""), error);
  if (!loaded) *error = dir + ": " + *error;
  return loaded;
}

}  // namespace cmesh::webhook
