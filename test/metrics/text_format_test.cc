// The text exposition format 0.0.4, checked against text written by hand from the format's
// specification (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "cmesh/metrics/snapshot.h"
#include "cmesh/metrics/text_format.h"

namespace cmesh::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(FormatValueTest, SpecialValuesUseTheSpellingPrometheusParses) {
  EXPECT_EQ(FormatValue(kInf), "+Inf");
  EXPECT_EQ(FormatValue(-kInf), "-Inf");
  EXPECT_EQ(FormatValue(kNaN), "NaN");
}

TEST(FormatValueTest, IntegersHaveNoExponentNorDecimalPoint) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(-0.0), "0");
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(-42), "-42");
  EXPECT_EQ(FormatValue(1000000), "1000000");
  EXPECT_EQ(FormatValue(9007199254740992.0), "9007199254740992");  // 2^53, the last exact one
}

TEST(FormatValueTest, OtherValuesUseTheShortestRoundTripText) {
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(-2.5), "-2.5");
  // %g layout: an exponent only below 1e-4 or from 1e6 up (as Go's FormatFloat 'g', -1).
  EXPECT_EQ(FormatValue(0.0005), "0.0005");
  EXPECT_EQ(FormatValue(0.00001), "1e-05");
  EXPECT_EQ(FormatValue(123456.5), "123456.5");
  EXPECT_EQ(FormatValue(1234567.5), "1.2345675e+06");
  EXPECT_EQ(FormatValue(1e300), "1e+300");
  EXPECT_EQ(FormatValue(1e20), "1e+20");  // integral, but past 2^53: digits would pretend precision
  const double third = 1.0 / 3;
  EXPECT_EQ(std::stod(FormatValue(third)), third);
}

TEST(EscapeTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("tab\tstays"), "tab\tstays");
  EXPECT_EQ(EscapeLabelValue("h\xC3\xA9llo"), "h\xC3\xA9llo");  // valid UTF-8 passes through
}

TEST(EscapeTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("say \"hi\"\\now\nthen"), "say \"hi\"\\\\now\\nthen");
}

TEST(EscapeTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(EscapeLabelValue("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(EscapeLabelValue("\xC3"), "\xEF\xBF\xBD");                 // truncated sequence
  EXPECT_EQ(EscapeLabelValue("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(EscapeLabelValue("\xED\xA0\x80"),                          // UTF-16 surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(EscapeHelp("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");  // 4-byte emoji is fine
}

TEST(RenderTextTest, CounterWithLabels) {
  FamilySnapshot f;
  f.name = "requests_total";
  f.help = "Requests served.";
  f.type = MetricType::kCounter;
  f.label_names = {"code", "method"};
  f.series = {{{"200", "GET"}, 3, {}}, {{"500", "POST"}, 1.5, {}}};
  EXPECT_EQ(RenderText(std::vector<FamilySnapshot>{f}),
            "# HELP requests_total Requests served.\n"
            "# TYPE requests_total counter\n"
            "requests_total{code=\"200\",method=\"GET\"} 3\n"
            "requests_total{code=\"500\",method=\"POST\"} 1.5\n");
}

TEST(RenderTextTest, GaugeWithoutLabelsAndEscapedHelp) {
  FamilySnapshot f;
  f.name = "temperature";
  f.help = "Line one\nback\\slash";
  f.type = MetricType::kGauge;
  f.series = {{{}, -kInf, {}}};
  EXPECT_EQ(RenderText(std::vector<FamilySnapshot>{f}),
            "# HELP temperature Line one\\nback\\\\slash\n"
            "# TYPE temperature gauge\n"
            "temperature -Inf\n");
}

TEST(RenderTextTest, EmptyHelpOmitsTheHelpLine) {
  FamilySnapshot f;
  f.name = "x";
  f.type = MetricType::kGauge;
  f.series = {{{}, kNaN, {}}};
  EXPECT_EQ(RenderText(std::vector<FamilySnapshot>{f}), "# TYPE x gauge\nx NaN\n");
}

TEST(RenderTextTest, LabelValuesAreEscaped) {
  FamilySnapshot f;
  f.name = "m";
  f.help = "h";
  f.type = MetricType::kGauge;
  f.label_names = {"path"};
  f.series = {{{"C:\\dir\n\"x\""}, 1, {}}};
  EXPECT_EQ(RenderText(std::vector<FamilySnapshot>{f}),
            "# HELP m h\n# TYPE m gauge\nm{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(RenderTextTest, HistogramBucketsSumAndCount) {
  FamilySnapshot f;
  f.name = "push_seconds";
  f.help = "Push time.";
  f.type = MetricType::kHistogram;
  f.label_names = {"type"};
  f.bounds = {0.1, 1, 2.5};
  SeriesSnapshot s;
  s.label_values = {"cds"};
  s.histogram.cumulative_counts = {1, 3, 3, 4};
  s.histogram.sum = 7.25;
  f.series = {s};
  EXPECT_EQ(RenderText(std::vector<FamilySnapshot>{f}),
            "# HELP push_seconds Push time.\n"
            "# TYPE push_seconds histogram\n"
            "push_seconds_bucket{type=\"cds\",le=\"0.1\"} 1\n"
            "push_seconds_bucket{type=\"cds\",le=\"1\"} 3\n"
            "push_seconds_bucket{type=\"cds\",le=\"2.5\"} 3\n"
            "push_seconds_bucket{type=\"cds\",le=\"+Inf\"} 4\n"
            "push_seconds_sum{type=\"cds\"} 7.25\n"
            "push_seconds_count{type=\"cds\"} 4\n");
}

TEST(RenderTextTest, HistogramWithoutLabels) {
  FamilySnapshot f;
  f.name = "h";
  f.help = "x";
  f.type = MetricType::kHistogram;
  f.bounds = {5};
  SeriesSnapshot s;
  s.histogram.cumulative_counts = {0, 2};
  s.histogram.sum = 20;
  f.series = {s};
  EXPECT_EQ(RenderText(std::vector<FamilySnapshot>{f}),
            "# HELP h x\n# TYPE h histogram\n"
            "h_bucket{le=\"5\"} 0\n"
            "h_bucket{le=\"+Inf\"} 2\n"
            "h_sum 20\n"
            "h_count 2\n");
}

TEST(RenderTextTest, FamiliesKeepTheGivenOrder) {
  FamilySnapshot a{"a", "A", MetricType::kGauge, {}, {}, {{{}, 1, {}}}};
  FamilySnapshot b{"b", "B", MetricType::kCounter, {}, {}, {{{}, 2, {}}}};
  EXPECT_EQ(RenderText(std::vector<FamilySnapshot>{b, a}),
            "# HELP b B\n# TYPE b counter\nb 2\n# HELP a A\n# TYPE a gauge\na 1\n");
}

TEST(RenderTextTest, ContentTypeNamesVersion004) {
  EXPECT_EQ(kTextContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace cmesh::metrics
