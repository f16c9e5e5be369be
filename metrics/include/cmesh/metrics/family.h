// A metric family: one name, help text and set of label names, holding one series per label set.
// Looking a series up takes the family's mutex (do it once and keep the handle); the handle itself
// is updated without locks and stays valid as long as the registry lives.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/metrics/counter.h"
#include "cmesh/metrics/gauge.h"
#include "cmesh/metrics/histogram.h"
#include "cmesh/metrics/snapshot.h"

namespace cmesh::metrics {

// Orders label-value tuples lexicographically, and compares stored tuples with string_view ones so
// a lookup that hits allocates nothing.
struct LabelValuesLess {
  using is_transparent = void;
  bool operator()(std::span<const std::string> a, std::span<const std::string> b) const;
  bool operator()(std::span<const std::string> a, std::span<const std::string_view> b) const;
  bool operator()(std::span<const std::string_view> a, std::span<const std::string> b) const;
};

// What every family shares, whatever its series type; the registry keeps families through it.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names, std::vector<double> bounds);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& bounds() const { return bounds_; }

  // Copies the family and the current values of all its series, sorted by label values.
  virtual FamilySnapshot Snapshot() const = 0;

 protected:
  // A wrong number of label values is a bug in the caller, not a runtime condition: it aborts with
  // a message naming the family, like a failed registration unwrapped with OrDie().
  void CheckArity(std::size_t got) const;

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
};

template <typename Series>
class Family final : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  // The series for these label values (in label-name order), created on first use.
  Series& WithLabels(std::initializer_list<std::string_view> values) {
    return Lookup(std::span<const std::string_view>(values.begin(), values.size()));
  }
  Series& WithLabels(std::span<const std::string_view> values) { return Lookup(values); }
  Series& WithLabels(const std::vector<std::string>& values);

  // The only series of a family without labels.
  Series& Get() { return Lookup({}); }

  FamilySnapshot Snapshot() const override;

 private:
  Series& Lookup(std::span<const std::string_view> values);
  std::unique_ptr<Series> MakeSeries() const;

  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>, LabelValuesLess> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace cmesh::metrics
