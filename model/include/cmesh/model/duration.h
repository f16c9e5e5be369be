// Parsing and printing durations the way Istio's API accepts them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cmesh/model/common.h"

namespace cmesh::model {

// Accepts protobuf's JSON form ("1.5s", "-2s", "0.000000001s") and, because Istio's CRDs validate
// durations with Go's time.ParseDuration, Go's unit sequences too ("100ms", "1m30s", "2h", "5us",
// "1µs", "3ns"). A bare number without a unit is rejected (except "0"). Out of range → nullopt.
std::optional<Duration> ParseDuration(std::string_view text);

// Protobuf JSON form: whole seconds "5s", else with 3, 6 or 9 fractional digits ("1.500s").
std::string FormatDuration(Duration d);

}  // namespace cmesh::model
