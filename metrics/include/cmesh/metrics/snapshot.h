// Plain values copied out of a registry for rendering. The text renderer depends only on these, so
// its formatting is tested without any live metric.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cmesh/metrics/histogram.h"

namespace cmesh::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge" or "histogram": the exposition format's TYPE keyword.
std::string_view MetricTypeName(MetricType type);

struct SeriesSnapshot {
  std::vector<std::string> label_values;  // same order as FamilySnapshot::label_names
  double value = 0;                       // counters and gauges
  HistogramValue histogram;               // histograms only
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms only, without +Inf
  std::vector<SeriesSnapshot> series;
};

}  // namespace cmesh::metrics
