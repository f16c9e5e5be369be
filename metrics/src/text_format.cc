#include "cmesh/metrics/text_format.h"

#include <charconv>
#include <cmath>

#include "cmesh/metrics/registry.h"

namespace cmesh::metrics {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF included, per RFC 3629).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

void AppendEscaped(std::string_view s, bool escape_quote, std::string* out) {
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && escape_quote) {
      *out += "\\\"";
    } else {
      const std::size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        *out += kReplacementChar;
        ++i;
      } else {
        out->append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    ++i;
  }
}


// `{a="x",b="y"}` plus, for buckets, the le label last; nothing at all when there are no labels.
void AppendLabels(const FamilySnapshot& family, const SeriesSnapshot& series, const std::string* le,
                  std::string* out) {
  if (family.label_names.empty() && le == nullptr) return;
  *out += '{';
  for (std::size_t i = 0; i < family.label_names.size(); ++i) {
    if (i > 0) *out += ',';
    *out += family.label_names[i];
    *out += "=\"";
    AppendEscaped(series.label_values[i], /*escape_quote=*/true, out);
    *out += '"';
  }
  if (le != nullptr) {
    if (!family.label_names.empty()) *out += ',';
    *out += "le=\"";
    *out += *le;
    *out += '"';
  }
  *out += '}';
}

void AppendSample(std::string_view name, std::string_view suffix, const FamilySnapshot& family,
                  const SeriesSnapshot& series, const std::string* le, std::string_view value,
                  std::string* out) {
  *out += name;
  *out += suffix;
  AppendLabels(family, series, le, out);
  *out += ' ';
  *out += value;
  *out += '\n';
}

void AppendFamily(const FamilySnapshot& f, std::string* out) {
  if (!f.help.empty()) {
    *out += "# HELP " + f.name + ' ';
    AppendEscaped(f.help, /*escape_quote=*/false, out);
    *out += '\n';
  }
  *out += "# TYPE " + f.name + ' ';
  *out += MetricTypeName(f.type);
  *out += '\n';
  for (const SeriesSnapshot& s : f.series) {
    if (f.type != MetricType::kHistogram) {
      AppendSample(f.name, "", f, s, nullptr, FormatValue(s.value), out);
      continue;
    }
    const std::vector<uint64_t>& counts = s.histogram.cumulative_counts;
    for (std::size_t i = 0; i <= f.bounds.size(); ++i) {
      const std::string le = i < f.bounds.size() ? FormatValue(f.bounds[i]) : "+Inf";
      const uint64_t count = i < counts.size() ? counts[i] : s.histogram.Count();
      AppendSample(f.name, "_bucket", f, s, &le, std::to_string(count), out);
    }
    AppendSample(f.name, "_sum", f, s, nullptr, FormatValue(s.histogram.sum), out);
    AppendSample(f.name, "_count", f, s, nullptr, std::to_string(s.histogram.Count()), out);
  }
}

}  // namespace

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // also -0, which reads the same to every consumer
  char buf[64];
  std::to_chars_result r;
  // Integers that a double holds exactly print as digits ("1000000", not "1e+06").
  constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
  if (std::fabs(v) <= kMaxExactInteger && v == std::trunc(v)) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 0);
  } else {
    // Shortest digits that read back to the same double, laid out like C's %g (exponent only below
    // 1e-4 or from 1e6 up): the same text as Go's FormatFloat(v, 'g', -1), so bucket bounds get
    // the same `le` strings as in Go-instrumented services and dashboards match them.
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  }
  return std::string(buf, r.ptr);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  AppendEscaped(value, /*escape_quote=*/true, &out);
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  AppendEscaped(help, /*escape_quote=*/false, &out);
  return out;
}

std::string RenderText(std::span<const FamilySnapshot> families) {
  std::string out;
  for (const FamilySnapshot& f : families) AppendFamily(f, &out);
  return out;
}

std::string RenderText(const Registry& registry) {
  const std::vector<FamilySnapshot> families = registry.Snapshot();
  return RenderText(families);
}

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace cmesh::metrics
