#include "cmesh/kube_status/istio_status.h"

#include <cctype>
#include <string_view>

namespace cmesh::kube_status {
namespace {

constexpr std::string_view kDocumentationBase = "https://istio.io/latest/docs/reference/config/analysis/";

bool OwnedMessage(const nlohmann::json& message) {
  if (!message.is_object()) return false;
  auto type = message.find("type");
  if (type == message.end() || !type->is_object()) return false;
  auto code = type->find("code");
  if (code == type->end() || !code->is_string()) return false;
  const auto& text = code->get_ref<const std::string&>();
  return text == kSchemaValidationErrorCode || text == kSchemaWarningCode;
}

bool IsOurCondition(const nlohmann::json& condition) {
  return condition.is_object() && condition.value("type", std::string()) == kReconciledCondition;
}

nlohmann::json ReconciledCondition(const std::vector<model::Diagnostic>& diagnostics) {
  int errors = 0;
  int warnings = 0;
  for (const auto& diagnostic : diagnostics) {
    (diagnostic.severity == model::Severity::kError ? errors : warnings)++;
  }
  nlohmann::json condition = {{"type", kReconciledCondition}};
  if (errors > 0) {
    condition["status"] = "False";
    condition["reason"] = "Invalid";
    condition["message"] = "The configuration is invalid and is not served: " + std::to_string(errors) +
                           (errors == 1 ? " error" : " errors") + " in validationMessages";
  } else {
    condition["status"] = "True";
    condition["reason"] = "Accepted";
    std::string message = "The configuration is valid and served";
    if (warnings > 0) {
      message += ", with " + std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings") +
                 " in validationMessages";
    }
    condition["message"] = message;
  }
  return condition;
}

}  // namespace

nlohmann::json ValidationMessage(const model::Diagnostic& diagnostic) {
  const bool error = diagnostic.severity == model::Severity::kError;
  const std::string code = error ? kSchemaValidationErrorCode : kSchemaWarningCode;
  std::string description = error ? "Schema validation error: " : "Schema validation warning: ";
  if (!diagnostic.field.empty()) description += diagnostic.field + ": ";
  description += diagnostic.message;
  std::string lower_code = code;
  for (char& c : lower_code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {
      {"type", {{"code", code}, {"name", error ? "SchemaValidationError" : "SchemaWarning"}}},
      {"level", error ? "ERROR" : "WARNING"},
      {"description", description},
      {"documentationUrl", std::string(kDocumentationBase) + lower_code + "/"},
  };
}

nlohmann::json DesiredStatus(const nlohmann::json& current_status, std::int64_t generation,
                             const std::vector<model::Diagnostic>& diagnostics, const std::string& now_rfc3339) {
  nlohmann::json status = current_status.is_object() ? current_status : nlohmann::json::object();

  // Conditions: ours replaced where it stands, the others untouched and in their order.
  nlohmann::json condition = ReconciledCondition(diagnostics);
  nlohmann::json conditions = nlohmann::json::array();
  bool placed = false;
  auto existing = status.find("conditions");
  if (existing != status.end() && existing->is_array()) {
    for (const auto& old : *existing) {
      if (!IsOurCondition(old)) {
        conditions.push_back(old);
        continue;
      }
      if (placed) continue;  // a duplicate of our type: drop it
      auto old_time = old.find("lastTransitionTime");
      bool same_status = old.value("status", std::string()) == condition["status"].get<std::string>();
      condition["lastTransitionTime"] =
          same_status && old_time != old.end() && old_time->is_string() ? *old_time : nlohmann::json(now_rfc3339);
      conditions.push_back(condition);
      placed = true;
    }
  }
  if (!placed) {
    condition["lastTransitionTime"] = now_rfc3339;
    conditions.push_back(condition);
  }
  status["conditions"] = std::move(conditions);

  // Validation messages: the others' first, in their order, then one per diagnostic. With none
  // left, the field goes away, unless someone else keeps an empty list there.
  nlohmann::json messages = nlohmann::json::array();
  bool had_empty_list = false;
  auto old_messages = status.find("validationMessages");
  if (old_messages != status.end() && old_messages->is_array()) {
    had_empty_list = old_messages->empty();
    for (const auto& old : *old_messages) {
      if (!OwnedMessage(old)) messages.push_back(old);
    }
  }
  for (const auto& diagnostic : diagnostics) messages.push_back(ValidationMessage(diagnostic));
  if (!messages.empty() || had_empty_list) {
    status["validationMessages"] = std::move(messages);
  } else {
    status.erase("validationMessages");
  }

  if (generation > 0) status["observedGeneration"] = generation;
  return status;
}

}  // namespace cmesh::kube_status
