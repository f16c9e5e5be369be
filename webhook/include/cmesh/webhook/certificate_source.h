// Where the webhook's serving certificate comes from over the process's life: a mounted pair when
// one is there (re-read on every refresh, so a rotated Secret is picked up), else a CA made once and
// a serving certificate it reissues when renewal is due. The caller (cmesh-pilot) calls Refresh at
// start and then periodically, and on a change builds a new TLS context and, as leader, patches the
// caBundle. Not thread-safe: one owner thread.
#pragma once

#include <optional>
#include <string>

#include "cmesh/webhook/certificates.h"

namespace cmesh::webhook {

class CertificateSource {
 public:
  // `mounted_dir` "" never looks for a mounted pair.
  CertificateSource(CertificateOptions options, std::string mounted_dir);

  enum class Change { kNone, kServing, kServingAndCa };

  // Brings current() up to date. kServingAndCa when the CA bundle changed too (the first call, a
  // switch between mounted and self-made, a rotated mounted CA), kServing when only the serving
  // pair did. On error (a broken mounted pair, OpenSSL failing) keeps what it had and sets *error.
  Change Refresh(Clock::time_point now, std::string* error);

  bool has_current() const { return current_.has_value(); }
  const ServingCertificate& current() const { return *current_; }
  bool mounted() const { return mounted_; }

 private:
  CertificateOptions options_;
  std::string mounted_dir_;
  std::optional<KeyAndCertificate> ca_;  // the self-made CA, kept so renewals keep the caBundle
  std::optional<ServingCertificate> current_;
  bool mounted_ = false;
};

}  // namespace cmesh::webhook
