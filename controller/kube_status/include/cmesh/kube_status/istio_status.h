// The .status that cmesh writes on a VirtualService or DestinationRule, shaped like Istio's
// IstioStatus (istio.io/api meta/v1alpha1):
//
//   status:
//     conditions:
//     - type: Reconciled            # the one condition cmesh owns
//       status: "True" | "False"    # served, or skipped because it is invalid
//       reason: Accepted | Invalid
//       message: ...
//       lastTransitionTime: ...     # kept while status stays the same
//     validationMessages:           # one per diagnostic, in the diagnostics' order
//     - type: {code: IST0106, name: SchemaValidationError}   # errors; warnings: IST0133 SchemaWarning
//       level: ERROR | WARNING
//       description: "Schema validation error: spec.http[0].timeout: ..."
//       documentationUrl: https://istio.io/latest/docs/reference/config/analysis/ist0106/
//     observedGeneration: 3
//
// Everything else in .status belongs to other writers and is kept as it is: conditions of other
// types (in their order), validation messages with other codes, other fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/model/diagnostic.h"

namespace cmesh::kube_status {

inline constexpr const char* kReconciledCondition = "Reconciled";
inline constexpr const char* kSchemaValidationErrorCode = "IST0106";
inline constexpr const char* kSchemaWarningCode = "IST0133";

// The status to write, given the object's current .status (null or an object), its
// metadata.generation, the diagnostics for it, and the time to stamp on a condition whose status
// changes (RFC 3339, seconds precision). Pure: equal inputs give equal outputs, and feeding its
// own output back in gives the same output (so an unchanged result means no write).
nlohmann::json DesiredStatus(const nlohmann::json& current_status, std::int64_t generation,
                             const std::vector<model::Diagnostic>& diagnostics, const std::string& now_rfc3339);

// One validation message for a diagnostic.
nlohmann::json ValidationMessage(const model::Diagnostic& diagnostic);

}  // namespace cmesh::kube_status
