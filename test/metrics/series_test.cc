// Values of single series: counters, gauges and histograms, without a registry.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "cmesh/metrics/counter.h"
#include "cmesh/metrics/gauge.h"
#include "cmesh/metrics/histogram.h"

namespace cmesh::metrics {
namespace {

TEST(CounterTest, StartsAtZeroAndAddsWholeAndFractionalAmounts) {
  Counter c;
  EXPECT_EQ(c.Value(), 0);
  c.Inc();
  c.Inc(4);
  c.Add(0.5);
  c.Add(0.25);
  EXPECT_EQ(c.Value(), 5.75);
}

TEST(CounterTest, NeverGoesDown) {
  Counter c;
  c.Inc(3);
  c.Add(-2);
  c.Add(std::numeric_limits<double>::quiet_NaN());
  c.Add(0);
  EXPECT_EQ(c.Value(), 3);
}

TEST(GaugeTest, SetIncDecAdd) {
  Gauge g;
  EXPECT_EQ(g.Value(), 0);
  g.Set(10);
  g.Inc();
  g.Dec(3);
  g.Add(-0.5);
  EXPECT_EQ(g.Value(), 7.5);
  g.Set(-2);
  EXPECT_EQ(g.Value(), -2);
}

TEST(HistogramTest, BucketsAreLessOrEqualAndCumulative) {
  const std::vector<double> bounds = {1, 5, 10};
  Histogram h(bounds);
  // 0.5 and 1 (on the bound: `le` is inclusive) -> le=1; 3 -> le=5; 10 -> le=10; 11 -> +Inf.
  for (double v : {0.5, 1.0, 3.0, 10.0, 11.0}) h.Observe(v);
  const HistogramValue value = h.Value();
  EXPECT_EQ(value.cumulative_counts, (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(value.Count(), 5u);
  EXPECT_EQ(value.sum, 25.5);
}

TEST(HistogramTest, EmptyHistogramHasZeroes) {
  const std::vector<double> bounds = {0.1, 1};
  Histogram h(bounds);
  const HistogramValue value = h.Value();
  EXPECT_EQ(value.cumulative_counts, (std::vector<uint64_t>{0, 0, 0}));
  EXPECT_EQ(value.sum, 0);
}

TEST(HistogramTest, NoBoundsMeansOnlyInf) {
  Histogram h({});
  h.Observe(-100);
  h.Observe(1e9);
  EXPECT_EQ(h.Value().cumulative_counts, (std::vector<uint64_t>{2}));
}

TEST(HistogramTest, NaNIsCountedInInfBucketAndPoisonsSum) {
  const std::vector<double> bounds = {1};
  Histogram h(bounds);
  h.Observe(0.5);
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  const HistogramValue value = h.Value();
  EXPECT_EQ(value.cumulative_counts, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(std::isnan(value.sum));
}

TEST(HistogramTest, InfinitiesGoToTheEnds) {
  const std::vector<double> bounds = {1, 2};
  Histogram h(bounds);
  h.Observe(-std::numeric_limits<double>::infinity());
  h.Observe(std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.Value().cumulative_counts, (std::vector<uint64_t>{1, 1, 2}));
}

}  // namespace
}  // namespace cmesh::metrics
