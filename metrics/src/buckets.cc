#include "cmesh/metrics/buckets.h"

namespace cmesh::metrics {

// Function-local statics: built on first use, so no static-initialisation order issue when another
// translation unit registers metrics from its own static initialiser.
const std::vector<double>& PushTimeSecondsBuckets() {
  static const std::vector<double> kBounds = {0.01, 0.1, 1, 3, 5, 10, 20, 30};
  return kBounds;
}

const std::vector<double>& ConvergenceSecondsBuckets() {
  static const std::vector<double> kBounds = {0.1, 0.5, 1, 3, 5, 10, 20, 30};
  return kBounds;
}

const std::vector<double>& RequestDurationMillisecondsBuckets() {
  static const std::vector<double> kBounds = {0.5,   1,     5,      10,     25,      50,     100,
                                              250,   500,   1000,   2500,   5000,    10000,  30000,
                                              60000, 300000, 600000, 1800000, 3600000};
  return kBounds;
}

}  // namespace cmesh::metrics
