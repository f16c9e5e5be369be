#include "cmesh/webhook/admission_review.h"

namespace cmesh::webhook {
namespace {

bool OptionalString(const nlohmann::json& object, const char* key, const std::string& where, std::string* out,
                    std::string* error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *error = where + key + " must be a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

}  // namespace

std::optional<AdmissionRequest> ParseAdmissionReview(const std::string& body, std::string* error) {
  // Parsed without exceptions: a malformed body is an answer, never a crash.
  nlohmann::json review = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (review.is_discarded()) {
    *error = "the body is not JSON (an AdmissionReview v1 object is expected)";
    return std::nullopt;
  }
  if (!review.is_object()) {
    *error = "the body must be a JSON object (an AdmissionReview v1)";
    return std::nullopt;
  }
  const std::string api_version = review.value("apiVersion", nlohmann::json()).is_string()
                                      ? review["apiVersion"].get<std::string>()
                                      : std::string();
  if (api_version != "admission.k8s.io/v1") {
    *error = "apiVersion must be admission.k8s.io/v1, got \"" + api_version + "\"";
    return std::nullopt;
  }
  if (review.value("kind", nlohmann::json()) != "AdmissionReview") {
    *error = "kind must be AdmissionReview";
    return std::nullopt;
  }
  auto req = review.find("request");
  if (req == review.end() || !req->is_object()) {
    *error = "request is missing or not an object";
    return std::nullopt;
  }
  AdmissionRequest out;
  if (!OptionalString(*req, "uid", "request.", &out.uid, error)) return std::nullopt;
  if (out.uid.empty()) {
    *error = "request.uid is missing";
    return std::nullopt;
  }
  if (!OptionalString(*req, "operation", "request.", &out.operation, error) ||
      !OptionalString(*req, "namespace", "request.", &out.ns, error) ||
      !OptionalString(*req, "name", "request.", &out.name, error)) {
    return std::nullopt;
  }
  if (out.operation.empty()) {
    *error = "request.operation is missing";
    return std::nullopt;
  }
  auto kind = req->find("kind");
  if (kind == req->end() || !kind->is_object()) {
    *error = "request.kind is missing or not an object";
    return std::nullopt;
  }
  if (!OptionalString(*kind, "group", "request.kind.", &out.group, error) ||
      !OptionalString(*kind, "version", "request.kind.", &out.version, error) ||
      !OptionalString(*kind, "kind", "request.kind.", &out.kind, error)) {
    return std::nullopt;
  }
  if (out.kind.empty()) {
    *error = "request.kind.kind is missing";
    return std::nullopt;
  }
  if (auto object = req->find("object"); object != req->end()) {
    if (!object->is_null() && !object->is_object()) {
      *error = "request.object must be an object";
      return std::nullopt;
    }
    out.object = *object;
  }
  if (auto dry = req->find("dryRun"); dry != req->end() && dry->is_boolean()) out.dry_run = dry->get<bool>();
  return out;
}

nlohmann::json ToAdmissionReview(const AdmissionResponse& response) {
  nlohmann::json r = {{"uid", response.uid}, {"allowed", response.allowed}};
  if (!response.allowed) {
    nlohmann::json status = {{"message", response.message}};
    if (response.code != 0) status["code"] = response.code;
    r["status"] = std::move(status);
  }
  if (response.patch) {
    r["patchType"] = "JSONPatch";
    r["patch"] = EncodeBase64(response.patch->dump());
  }
  if (!response.warnings.empty()) r["warnings"] = response.warnings;
  return {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", std::move(r)}};
}

std::string EncodeBase64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace cmesh::webhook
