// Prometheus text exposition format 0.0.4 (what /metrics serves and `promtool check metrics` reads).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "cmesh/metrics/snapshot.h"

namespace cmesh::metrics {

class Registry;

// The Content-Type a /metrics handler sends with RenderText's output.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Families in the given order (Registry::Snapshot sorts them), each as `# HELP`, `# TYPE` and its
// samples; histograms as cumulative _bucket{le=...} lines ending with le="+Inf", then _sum and
// _count. No timestamps.
std::string RenderText(std::span<const FamilySnapshot> families);
std::string RenderText(const Registry& registry);

// A sample value or bucket bound: "+Inf", "-Inf", "NaN"; integers up to 2^53 in plain digits
// ("1000000", "0"); anything else as the shortest text that reads back to the same double, in %g
// layout ("0.25", "0.0005", "1e-05", "1.2345675e+06", "1e+300"), as Prometheus' Go client writes.
std::string FormatValue(double v);

// Label values escape backslash, double quote and newline. Bytes that are not valid UTF-8 become
// U+FFFD, because Prometheus rejects the whole scrape otherwise.
std::string EscapeLabelValue(std::string_view value);

// HELP text escapes backslash and newline only (quotes stay as they are), UTF-8 repaired the same way.
std::string EscapeHelp(std::string_view help);

}  // namespace cmesh::metrics
