// Prometheus' rules for metric and label names, checked when a family is registered.
#pragma once

#include <string_view>

namespace cmesh::metrics {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);

// [a-zA-Z_][a-zA-Z0-9_]*. Names starting with "__" are valid here but reserved by Prometheus; the
// registry rejects them separately so the message can say why.
bool IsValidLabelName(std::string_view name);

}  // namespace cmesh::metrics
