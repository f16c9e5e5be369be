// The set of metric families a process exposes. Registration validates names and refuses
// conflicting definitions; it returns a Registration rather than throwing. Fixed metrics defined at
// startup unwrap it with OrDie(), which prints the error and aborts, so a bad definition can never
// reach production silently.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/metrics/family.h"
#include "cmesh/metrics/snapshot.h"

namespace cmesh::metrics {

template <typename F>
struct Registration {
  F* family = nullptr;  // owned by the registry; null when error is set
  std::string error;    // names the metric and the rule it broke

  bool ok() const { return family != nullptr; }
  // The family, or abort with "cmesh metrics: <error>" on stderr.
  F& OrDie() const;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name again with exactly the same definition (type, help, label names, bounds)
  // returns the existing family, so two components may share one metric. Any difference is an
  // error, as is a name that would collide in the exposition with a histogram's _bucket, _sum or
  // _count series.
  Registration<CounterFamily> AddCounter(std::string_view name, std::string_view help,
                                         std::vector<std::string> label_names = {});
  Registration<GaugeFamily> AddGauge(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names = {});
  // `bounds`: strictly increasing, no NaN; a trailing +Inf is accepted and dropped (it is implicit).
  // Label `le` is reserved for the bucket bound.
  Registration<HistogramFamily> AddHistogram(std::string_view name, std::string_view help,
                                             std::vector<double> bounds,
                                             std::vector<std::string> label_names = {});

  // All families sorted by name, each with its series sorted by label values. Families with labels
  // and no series yet are left out (nothing to say about them); a family without labels always
  // has its one series, at zero until updated.
  std::vector<FamilySnapshot> Snapshot() const;

 private:
  template <typename F>
  Registration<F> Add(std::string_view name, std::string_view help, MetricType type,
                      std::vector<std::string> label_names, std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

template <typename F>
F& Registration<F>::OrDie() const {
  if (family == nullptr) {
    std::fprintf(stderr, "cmesh metrics: %s\n", error.c_str());
    std::abort();
  }
  return *family;
}

}  // namespace cmesh::metrics
