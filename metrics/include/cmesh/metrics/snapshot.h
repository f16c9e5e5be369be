// Plain values copied out of a registry for rendering. The text renderer depends only on these, so
// its formatting is tested without any live metric.
#pragma once

#include <string>
#include <vector>

#include "cmesh/metrics/histogram.h"

namespace cmesh::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

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
