#include "cmesh/webhook/config_validator.h"

#include "cmesh/model/parser.h"

namespace cmesh::webhook {
namespace {

// What the model reads. managedFields, status and the server-set metadata are the apiserver's,
// never the user's mistake, so they are not judged.
nlohmann::json ModelInput(const nlohmann::json& object, const std::string& ns) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* key : {"apiVersion", "kind", "spec"}) {
    if (object.contains(key)) out[key] = object[key];
  }
  nlohmann::json meta = nlohmann::json::object();
  if (object.contains("metadata") && object["metadata"].is_object()) {
    for (const char* key : {"name", "generateName", "namespace", "labels", "annotations"}) {
      if (object["metadata"].contains(key)) meta[key] = object["metadata"][key];
    }
  }
  if (!meta.contains("namespace") && !ns.empty()) meta["namespace"] = ns;
  if (!meta.contains("name") && meta.contains("generateName")) meta["name"] = meta["generateName"];
  meta.erase("generateName");
  out["metadata"] = std::move(meta);
  return out;
}

std::string Describe(const model::Diagnostic& d) { return d.field.empty() ? d.message : d.field + ": " + d.message; }

}  // namespace

std::vector<model::Diagnostic> ValidateObject(const nlohmann::json& object, const std::string& ns) {
  // One object alone: no cross-object rules (see the header), exactly like each object that
  // `cmeshctl validate` loads before its merged check.
  model::ParseResult parsed =
      model::ParseDocuments(ModelInput(object, ns).dump(), "admission-request", {.cross_object_checks = false});
  return std::move(parsed.diagnostics);
}

AdmissionResponse HandleValidation(const AdmissionRequest& request) {
  AdmissionResponse response;
  response.uid = request.uid;
  response.allowed = true;
  if (request.operation != "CREATE" && request.operation != "UPDATE") return response;
  if (request.group != "networking.istio.io" ||
      (request.kind != "VirtualService" && request.kind != "DestinationRule")) {
    return response;
  }
  if (!request.object.is_object()) {
    response.allowed = false;
    response.code = 400;
    response.message = "configuration is invalid: the request carries no object";
    return response;
  }
  std::string errors;
  for (const model::Diagnostic& d : ValidateObject(request.object, request.ns)) {
    if (d.severity == model::Severity::kError) {
      errors += (errors.empty() ? "" : "; ") + Describe(d);
    } else {
      response.warnings.push_back(Describe(d));
    }
  }
  if (!errors.empty()) {
    response.allowed = false;
    response.code = 400;
    response.message = "configuration is invalid: " + errors;
  }
  return response;
}

}  // namespace cmesh::webhook
