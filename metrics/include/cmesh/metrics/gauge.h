// One gauge series (one label set): a value that goes up and down. Lock-free like Counter.
#pragma once

#include "cmesh/metrics/atomic_double.h"

namespace cmesh::metrics {

class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.Store(v); }
  void Add(double delta) { value_.Add(delta); }
  void Inc(double delta = 1) { value_.Add(delta); }
  void Dec(double delta = 1) { value_.Add(-delta); }
  double Value() const { return value_.Load(); }

 private:
  AtomicDouble value_;
};

}  // namespace cmesh::metrics
