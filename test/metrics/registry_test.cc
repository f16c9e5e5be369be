// Registration rules, series lookup, and what a registry renders.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "cmesh/metrics/buckets.h"
#include "cmesh/metrics/names.h"
#include "cmesh/metrics/registry.h"
#include "cmesh/metrics/text_format.h"

namespace cmesh::metrics {
namespace {

using ::testing::HasSubstr;

TEST(NamesTest, MetricNames) {
  for (const char* ok : {"a", "_x", ":recording:rule", "pilot_xds_pushes", "A9_:b"}) {
    EXPECT_TRUE(IsValidMetricName(ok)) << ok;
  }
  for (const char* bad : {"", "9lives", "has-dash", "has space", "dot.ted", "caf\xC3\xA9"}) {
    EXPECT_FALSE(IsValidMetricName(bad)) << bad;
  }
}

TEST(NamesTest, LabelNames) {
  for (const char* ok : {"a", "_x", "type", "le", "A9_b"}) EXPECT_TRUE(IsValidLabelName(ok)) << ok;
  for (const char* bad : {"", "9", "with:colon", "has-dash", "sp ace"}) {
    EXPECT_FALSE(IsValidLabelName(bad)) << bad;
  }
}

TEST(RegistryTest, RejectsInvalidNames) {
  Registry r;
  EXPECT_THAT(r.AddCounter("bad-name", "h").error, HasSubstr("invalid name"));
  EXPECT_THAT(r.AddGauge("g", "h", {"ok", "bad:label"}).error, HasSubstr("invalid label name"));
  EXPECT_THAT(r.AddGauge("g", "h", {"__name__"}).error, HasSubstr("reserved"));
  EXPECT_THAT(r.AddGauge("g", "h", {"a", "a"}).error, HasSubstr("given twice"));
  EXPECT_FALSE(r.AddCounter("", "h").ok());
  EXPECT_TRUE(r.Snapshot().empty());
}

TEST(RegistryTest, HistogramReservesLe) {
  Registry r;
  const auto reg = r.AddHistogram("h_seconds", "h", {1}, {"le"});
  EXPECT_FALSE(reg.ok());
  EXPECT_THAT(reg.error, HasSubstr("\"le\" is reserved"));
  // Only histograms reserve it.
  EXPECT_TRUE(r.AddGauge("g", "h", {"le"}).ok());
}

TEST(RegistryTest, HistogramBoundsMustIncreaseAndBeFinite) {
  Registry r;
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THAT(r.AddHistogram("a", "h", {1, 1}).error, HasSubstr("strictly increasing"));
  EXPECT_THAT(r.AddHistogram("b", "h", {2, 1}).error, HasSubstr("strictly increasing"));
  EXPECT_THAT(r.AddHistogram("c", "h", {1, std::numeric_limits<double>::quiet_NaN()}).error,
              HasSubstr("finite"));
  EXPECT_THAT(r.AddHistogram("d", "h", {-inf, 1}).error, HasSubstr("finite"));
  // A trailing +Inf is the implicit bucket: accepted and dropped.
  const auto e = r.AddHistogram("e", "h", {1, inf});
  ASSERT_TRUE(e.ok()) << e.error;
  EXPECT_EQ(e.family->bounds(), std::vector<double>{1});
}

TEST(RegistryTest, SameDefinitionTwiceSharesTheFamily) {
  Registry r;
  auto first = r.AddCounter("pushes_total", "Pushes.", {"type"});
  auto second = r.AddCounter("pushes_total", "Pushes.", {"type"});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first.family, second.family);
  first.family->WithLabels({"cds"}).Inc();
  EXPECT_EQ(second.family->WithLabels({"cds"}).Value(), 1);
}

TEST(RegistryTest, ConflictingDefinitionIsAnError) {
  Registry r;
  ASSERT_TRUE(r.AddCounter("m", "Help.", {"type"}).ok());
  EXPECT_THAT(r.AddGauge("m", "Help.", {"type"}).error, HasSubstr("already registered as a counter"));
  EXPECT_FALSE(r.AddCounter("m", "Help.", {"kind"}).ok());
  EXPECT_FALSE(r.AddCounter("m", "Help.", {}).ok());
  EXPECT_FALSE(r.AddCounter("m", "Other help.", {"type"}).ok());
  ASSERT_TRUE(r.AddHistogram("h", "Help.", {1, 2}).ok());
  EXPECT_FALSE(r.AddHistogram("h", "Help.", {1, 3}).ok());
}

TEST(RegistryTest, HistogramSeriesNamesCannotCollide) {
  Registry r;
  ASSERT_TRUE(r.AddHistogram("lat", "h", {1}).ok());
  EXPECT_THAT(r.AddCounter("lat_count", "h").error, HasSubstr("collides"));
  EXPECT_THAT(r.AddGauge("lat_sum", "h").error, HasSubstr("collides"));
  EXPECT_THAT(r.AddGauge("lat_bucket", "h").error, HasSubstr("collides"));
  ASSERT_TRUE(r.AddGauge("size_count", "h").ok());
  EXPECT_THAT(r.AddHistogram("size", "h", {1}).error, HasSubstr("would collide"));
  // Unrelated suffixes are fine.
  EXPECT_TRUE(r.AddGauge("lat_total", "h").ok());
}

TEST(RegistryTest, LookupReturnsTheSameHandleForTheSameLabels) {
  Registry r;
  CounterFamily& f = r.AddCounter("c_total", "h", {"a", "b"}).OrDie();
  Counter& x = f.WithLabels({"1", "2"});
  EXPECT_EQ(&x, &f.WithLabels(std::vector<std::string>{"1", "2"}));
  EXPECT_NE(&x, &f.WithLabels({"2", "1"}));
}

TEST(RegistryDeathTest, WrongNumberOfLabelValuesAborts) {
  Registry r;
  CounterFamily& f = r.AddCounter("c_total", "h", {"a", "b"}).OrDie();
  EXPECT_DEATH(f.WithLabels({"only-one"}), "c_total has 2 label\\(s\\) but was given 1");
  EXPECT_DEATH(f.Get(), "c_total has 2 label\\(s\\) but was given 0");
}

TEST(RegistryDeathTest, OrDieAbortsWithTheError) {
  Registry r;
  EXPECT_DEATH(r.AddGauge("9bad", "h").OrDie(), "cmesh metrics: metric \"9bad\": invalid name");
}

TEST(RegistryTest, IstioBuckets) {
  EXPECT_EQ(PushTimeSecondsBuckets(), (std::vector<double>{.01, .1, 1, 3, 5, 10, 20, 30}));
  EXPECT_EQ(ConvergenceSecondsBuckets(), (std::vector<double>{.1, .5, 1, 3, 5, 10, 20, 30}));
  const auto& ms = RequestDurationMillisecondsBuckets();
  ASSERT_EQ(ms.size(), 19u);
  EXPECT_EQ(ms.front(), 0.5);
  EXPECT_EQ(ms.back(), 3600000);  // one hour
  Registry r;  // every default set is a valid bucket list
  EXPECT_TRUE(r.AddHistogram("a", "h", PushTimeSecondsBuckets()).ok());
  EXPECT_TRUE(r.AddHistogram("b", "h", ConvergenceSecondsBuckets()).ok());
  EXPECT_TRUE(r.AddHistogram("c", "h", ms).ok());
}

TEST(RegistryRenderTest, SortedFamiliesAndSeriesWhateverTheRegistrationOrder) {
  Registry r;
  GaugeFamily& objects = r.AddGauge("config_objects", "Objects by kind.", {"kind"}).OrDie();
  CounterFamily& pushes = r.AddCounter("b_pushes_total", "Pushes.", {"type"}).OrDie();
  r.AddGauge("a_connected", "Connected proxies.").OrDie().Get().Set(2);
  r.AddCounter("unused_total", "Never touched, has labels.", {"x"}).OrDie();
  objects.WithLabels({"VirtualService"}).Set(3);
  objects.WithLabels({"DestinationRule"}).Set(1);
  pushes.WithLabels({"rds"}).Inc(2);
  pushes.WithLabels({"cds"}).Inc();
  EXPECT_EQ(RenderText(r),
            "# HELP a_connected Connected proxies.\n"
            "# TYPE a_connected gauge\n"
            "a_connected 2\n"
            "# HELP b_pushes_total Pushes.\n"
            "# TYPE b_pushes_total counter\n"
            "b_pushes_total{type=\"cds\"} 1\n"
            "b_pushes_total{type=\"rds\"} 2\n"
            "# HELP config_objects Objects by kind.\n"
            "# TYPE config_objects gauge\n"
            "config_objects{kind=\"DestinationRule\"} 1\n"
            "config_objects{kind=\"VirtualService\"} 3\n");
}

TEST(RegistryRenderTest, UnlabelledMetricsShowZeroBeforeAnyUpdate) {
  Registry r;
  r.AddCounter("events_total", "Events.").OrDie();
  r.AddHistogram("wait_seconds", "Waits.", {1}).OrDie();
  EXPECT_EQ(RenderText(r),
            "# HELP events_total Events.\n"
            "# TYPE events_total counter\n"
            "events_total 0\n"
            "# HELP wait_seconds Waits.\n"
            "# TYPE wait_seconds histogram\n"
            "wait_seconds_bucket{le=\"1\"} 0\n"
            "wait_seconds_bucket{le=\"+Inf\"} 0\n"
            "wait_seconds_sum 0\n"
            "wait_seconds_count 0\n");
}

TEST(RegistryRenderTest, ObservedHistogram) {
  Registry r;
  HistogramFamily& f =
      r.AddHistogram("pilot_proxy_convergence_time", "Convergence.", ConvergenceSecondsBuckets())
          .OrDie();
  Histogram& h = f.Get();
  for (double v : {0.0625, 0.5, 0.75, 4.0, 45.0}) h.Observe(v);
  // 0.0625 <= .1; 0.5 <= .5 (inclusive); 0.75 <= 1; 4 <= 5; 45 only +Inf. Sum = 50.3125
  // (binary fractions, so the sum is exact).
  EXPECT_EQ(RenderText(r),
            "# HELP pilot_proxy_convergence_time Convergence.\n"
            "# TYPE pilot_proxy_convergence_time histogram\n"
            "pilot_proxy_convergence_time_bucket{le=\"0.1\"} 1\n"
            "pilot_proxy_convergence_time_bucket{le=\"0.5\"} 2\n"
            "pilot_proxy_convergence_time_bucket{le=\"1\"} 3\n"
            "pilot_proxy_convergence_time_bucket{le=\"3\"} 3\n"
            "pilot_proxy_convergence_time_bucket{le=\"5\"} 4\n"
            "pilot_proxy_convergence_time_bucket{le=\"10\"} 4\n"
            "pilot_proxy_convergence_time_bucket{le=\"20\"} 4\n"
            "pilot_proxy_convergence_time_bucket{le=\"30\"} 4\n"
            "pilot_proxy_convergence_time_bucket{le=\"+Inf\"} 5\n"
            "pilot_proxy_convergence_time_sum 50.3125\n"
            "pilot_proxy_convergence_time_count 5\n");
}

}  // namespace
}  // namespace cmesh::metrics
