#include "cmesh/metrics/family.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>

namespace cmesh::metrics {
namespace {

template <typename A, typename B>
bool LexLess(std::span<const A> a, std::span<const B> b) {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(),
      [](const auto& x, const auto& y) { return std::string_view(x) < std::string_view(y); });
}

}  // namespace

bool LabelValuesLess::operator()(std::span<const std::string> a,
                                 std::span<const std::string> b) const {
  return LexLess(a, b);
}
bool LabelValuesLess::operator()(std::span<const std::string> a,
                                 std::span<const std::string_view> b) const {
  return LexLess(a, b);
}
bool LabelValuesLess::operator()(std::span<const std::string_view> a,
                                 std::span<const std::string> b) const {
  return LexLess(a, b);
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

void FamilyBase::CheckArity(std::size_t got) const {
  if (got == label_names_.size()) return;
  std::fprintf(stderr, "cmesh metrics: %s has %zu label(s) but was given %zu value(s)\n",
               name_.c_str(), label_names_.size(), got);
  std::abort();
}

template <typename Series>
Series& Family<Series>::WithLabels(const std::vector<std::string>& values) {
  std::vector<std::string_view> views(values.begin(), values.end());
  return Lookup(views);
}

template <typename Series>
Series& Family<Series>::Lookup(std::span<const std::string_view> values) {
  CheckArity(values.size());
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    it = series_.emplace(std::vector<std::string>(values.begin(), values.end()), MakeSeries()).first;
  }
  return *it->second;
}

template <typename Series>
std::unique_ptr<Series> Family<Series>::MakeSeries() const {
  if constexpr (std::is_same_v<Series, Histogram>) {
    return std::make_unique<Histogram>(bounds());  // bounds() lives as long as the family
  } else {
    return std::make_unique<Series>();
  }
}

template <typename Series>
FamilySnapshot Family<Series>::Snapshot() const {
  FamilySnapshot out{name(), help(), type(), label_names(), bounds(), {}};
  std::lock_guard lock(mu_);
  out.series.reserve(series_.size());
  for (const auto& [values, series] : series_) {
    SeriesSnapshot s;
    s.label_values = values;
    if constexpr (std::is_same_v<Series, Histogram>) {
      s.histogram = series->Value();
    } else {
      s.value = series->Value();
    }
    out.series.push_back(std::move(s));
  }
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace cmesh::metrics
