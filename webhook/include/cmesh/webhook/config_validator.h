// The /validate handler: VirtualService and DestinationRule (networking.istio.io v1alpha3, v1beta1,
// v1) judged by the model's parser and validator, the same code as `cmeshctl validate`.
#pragma once

#include <string>
#include <vector>

#include "cmesh/model/diagnostic.h"
#include "cmesh/webhook/admission_review.h"

namespace cmesh::webhook {

// The diagnostics for one object as `cmeshctl validate` would report them (the object alone: a
// VirtualService without hosts is judged as a delegate, as Istio's webhook judges it, since the
// VirtualService that delegates to it may be applied later). `ns` fills metadata.namespace when
// the object has none (the apiserver sends it in request.namespace).
std::vector<model::Diagnostic> ValidateObject(const nlohmann::json& object, const std::string& ns);

// The /validate answer:
//  - DELETE (and CONNECT) are always allowed;
//  - kinds other than VirtualService / DestinationRule of networking.istio.io are allowed (the
//    webhook configuration should not send them);
//  - CREATE / UPDATE: denied with code 400 and "configuration is invalid: FIELD: reason; ..." when the
//    validator reports an error; allowed otherwise, its warnings in response.warnings.
AdmissionResponse HandleValidation(const AdmissionRequest& request);

}  // namespace cmesh::webhook
