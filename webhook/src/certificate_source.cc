#include "cmesh/webhook/certificate_source.h"

#include <utility>

namespace cmesh::webhook {

CertificateSource::CertificateSource(CertificateOptions options, std::string mounted_dir)
    : options_(std::move(options)), mounted_dir_(std::move(mounted_dir)) {}

CertificateSource::Change CertificateSource::Refresh(Clock::time_point now, std::string* error) {
  auto adopt = [&](ServingCertificate next, bool mounted) {
    Change change = Change::kServing;
    if (!current_ || current_->ca_bundle_pem != next.ca_bundle_pem || mounted_ != mounted) {
      change = Change::kServingAndCa;
    } else if (current_->serving.certificate_pem == next.serving.certificate_pem &&
               current_->serving.private_key_pem == next.serving.private_key_pem) {
      change = Change::kNone;
    }
    current_ = std::move(next);
    mounted_ = mounted;
    return change;
  };
  if (!mounted_dir_.empty()) {
    std::string load_error;
    std::optional<ServingCertificate> loaded = LoadMountedCertificate(mounted_dir_, &load_error);
    if (loaded) return adopt(std::move(*loaded), true);
    if (!load_error.empty()) {
      // Broken: keep serving what we have rather than switching to a CA nobody trusts.
      *error = load_error;
      return Change::kNone;
    }
  }
  if (current_ && !mounted_ && !RenewalDue(current_->serving.not_before, current_->serving.not_after, now)) {
    return Change::kNone;
  }
  if (!ca_ || RenewalDue(ca_->not_before, ca_->not_after, now)) {
    std::optional<KeyAndCertificate> ca = CreateCertificateAuthority(options_, now, error);
    if (!ca) return Change::kNone;
    ca_ = std::move(*ca);
  }
  std::optional<ServingCertificate> issued = IssueServingCertificate(*ca_, options_, now, error);
  if (!issued) return Change::kNone;
  return adopt(std::move(*issued), false);
}

}  // namespace cmesh::webhook
