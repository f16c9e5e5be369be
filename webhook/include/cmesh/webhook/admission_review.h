// admission.k8s.io/v1 AdmissionReview: reading the request the apiserver sends and writing the
// response it expects. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmesh::webhook {

// The fields of AdmissionReview.request the handlers read.
struct AdmissionRequest {
  std::string uid;        // echoed in the response (required)
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  std::string kind;       // request.kind.kind, e.g. "Pod", "VirtualService"
  std::string group;      // request.kind.group, e.g. "networking.istio.io" ("" for core)
  std::string version;    // request.kind.version
  std::string ns;         // request.namespace ("" for cluster-scoped objects)
  std::string name;       // request.name (may be "" on CREATE with generateName)
  nlohmann::json object;  // request.object (null on DELETE)
  bool dry_run = false;
};

// Decodes an AdmissionReview v1 body. On failure returns nullopt and sets *error to what is wrong
// ("not JSON: ...", "apiVersion must be admission.k8s.io/v1, got ...", "request.uid is missing"),
// which the server sends back with HTTP 400.
std::optional<AdmissionRequest> ParseAdmissionReview(const std::string& body, std::string* error);

// AdmissionReview.response.
struct AdmissionResponse {
  std::string uid;
  bool allowed = true;
  std::string message;                 // status.message when denied
  int code = 0;                        // status.code when denied (0: left out)
  std::optional<nlohmann::json> patch; // a JSONPatch array; sent base64-encoded, patchType JSONPatch
  std::vector<std::string> warnings;   // shown by kubectl as "Warning: ..."
};

// The whole AdmissionReview v1 JSON the apiserver expects back.
nlohmann::json ToAdmissionReview(const AdmissionResponse& response);

// RFC 4648 base64 with padding (the encoding of response.patch).
std::string EncodeBase64(const std::string& bytes);

}  // namespace cmesh::webhook
