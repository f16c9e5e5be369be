// Several threads on one series: lock-free updates must not lose any increment.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cmesh/metrics/registry.h"
#include "cmesh/metrics/text_format.h"

namespace cmesh::metrics {
namespace {

constexpr int kThreads = 8;
constexpr int kPerThread = 100000;

// Starts all threads, then releases them together so they really contend.
template <typename Fn>
void RunTogether(Fn fn) {
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      fn(t);
    });
  }
  go.store(true);
  for (auto& th : threads) th.join();
}

TEST(ConcurrencyTest, CounterIncrementsAddUpExactly) {
  Registry r;
  Counter& c = r.AddCounter("hits_total", "h").OrDie().Get();
  RunTogether([&](int) {
    for (int i = 0; i < kPerThread; ++i) c.Inc();
  });
  EXPECT_EQ(c.Value(), double{kThreads} * kPerThread);
}

TEST(ConcurrencyTest, FractionalAddsAddUpExactly) {
  Registry r;
  Counter& c = r.AddCounter("seconds_total", "h").OrDie().Get();
  Gauge& g = r.AddGauge("level", "h").OrDie().Get();
  // 0.5 and 0.25 are binary fractions and the totals stay far below 2^53, so every partial sum is
  // exact: any lost CAS update would show.
  RunTogether([&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      c.Add(0.5);
      if (t % 2 == 0) g.Inc(0.25); else g.Dec(0.25);
    }
  });
  EXPECT_EQ(c.Value(), 0.5 * kThreads * kPerThread);
  EXPECT_EQ(g.Value(), 0);
}

TEST(ConcurrencyTest, HistogramObservationsAreAllCounted) {
  Registry r;
  Histogram& h = r.AddHistogram("lat_seconds", "h", {1, 2}).OrDie().Get();
  RunTogether([&](int t) {
    for (int i = 0; i < kPerThread; ++i) h.Observe(t % 3);  // 0, 1, 2: one bucket each
  });
  // Threads 0,3,6 observe 0 and 1,4,7 observe 1 (le=1: 6 threads); 2,5 observe 2 (le=2: all 8).
  const HistogramValue v = h.Value();
  EXPECT_EQ(v.cumulative_counts,
            (std::vector<uint64_t>{6u * kPerThread, 8u * kPerThread, 8u * kPerThread}));
  EXPECT_EQ(v.sum, double{3 * 1 + 2 * 2} * kPerThread);
}

TEST(ConcurrencyTest, ConcurrentLookupsCreateOneSeriesPerLabelSet) {
  Registry r;
  CounterFamily& f = r.AddCounter("by_type_total", "h", {"type"}).OrDie();
  RunTogether([&](int t) {
    for (int i = 0; i < 1000; ++i) f.WithLabels({std::to_string((t + i) % 4)}).Inc();
  });
  const auto snap = r.Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  ASSERT_EQ(snap[0].series.size(), 4u);
  double total = 0;
  for (const auto& s : snap[0].series) total += s.value;
  EXPECT_EQ(total, double{kThreads} * 1000);
}

TEST(ConcurrencyTest, RenderingWhileUpdatingSeesConsistentHistograms) {
  Registry r;
  HistogramFamily& f = r.AddHistogram("busy_seconds", "h", {0.5}, {"t"}).OrDie();
  Counter& c = r.AddCounter("busy_total", "h").OrDie().Get();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Histogram& h = f.WithLabels({"x"});
    while (!stop.load()) {
      h.Observe(0.25);
      h.Observe(1);
      c.Inc();
    }
  });
  while (c.Value() == 0) std::this_thread::yield();  // render while the writer is really running
  double last_count = 0;
  for (int i = 0; i < 200; ++i) {
    for (const FamilySnapshot& fam : r.Snapshot()) {
      if (fam.type == MetricType::kCounter) {
        EXPECT_GE(fam.series[0].value, last_count);  // a counter never goes back
        last_count = fam.series[0].value;
      }
      for (const SeriesSnapshot& s : fam.series) {
        const auto& counts = s.histogram.cumulative_counts;
        for (std::size_t k = 1; k < counts.size(); ++k) EXPECT_LE(counts[k - 1], counts[k]);
      }
    }
    EXPECT_FALSE(RenderText(r).empty());
  }
  stop.store(true);
  writer.join();
}

}  // namespace
}  // namespace cmesh::metrics
