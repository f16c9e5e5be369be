#include "cmesh/metrics/registry.h"

#include <array>
#include <cmath>
#include <set>
#include <utility>

#include "cmesh/metrics/names.h"

namespace cmesh::metrics {
namespace {

constexpr std::array<std::string_view, 3> kHistogramSuffixes = {"_bucket", "_sum", "_count"};

// Empty when the definition is acceptable on its own; otherwise what is wrong with it.
std::string CheckDefinition(std::string_view name, MetricType type,
                            const std::vector<std::string>& label_names, std::vector<double>* bounds) {
  const std::string metric = "metric \"" + std::string(name) + "\"";
  if (!IsValidMetricName(name)) {
    return metric + ": invalid name (must match [a-zA-Z_:][a-zA-Z0-9_:]*)";
  }
  std::set<std::string_view> seen;
  for (const auto& label : label_names) {
    if (!IsValidLabelName(label)) {
      return metric + ": invalid label name \"" + label + "\" (must match [a-zA-Z_][a-zA-Z0-9_]*)";
    }
    if (label.starts_with("__")) {
      return metric + ": label name \"" + label + "\" is reserved (names starting with __ are Prometheus')";
    }
    if (type == MetricType::kHistogram && label == "le") {
      return metric + ": label name \"le\" is reserved for histogram bucket bounds";
    }
    if (!seen.insert(label).second) return metric + ": label name \"" + label + "\" given twice";
  }
  if (type == MetricType::kHistogram) {
    if (!bounds->empty() && std::isinf(bounds->back()) && bounds->back() > 0) bounds->pop_back();
    for (std::size_t i = 0; i < bounds->size(); ++i) {
      const double b = (*bounds)[i];
      if (!std::isfinite(b)) return metric + ": bucket bounds must be finite (+Inf is implicit)";
      if (i > 0 && !((*bounds)[i - 1] < b)) {
        return metric + ": bucket bounds must be strictly increasing";
      }
    }
  }
  return {};
}

bool SameDefinition(const FamilyBase& f, std::string_view help, MetricType type,
                    const std::vector<std::string>& label_names, const std::vector<double>& bounds) {
  return f.help() == help && f.type() == type && f.label_names() == label_names &&
         f.bounds() == bounds;
}

}  // namespace

template <typename F>
Registration<F> Registry::Add(std::string_view name, std::string_view help, MetricType type,
                              std::vector<std::string> label_names, std::vector<double> bounds) {
  Registration<F> out;
  out.error = CheckDefinition(name, type, label_names, &bounds);
  if (!out.error.empty()) return out;
  const std::string metric = "metric \"" + std::string(name) + "\"";

  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    if (!SameDefinition(*it->second, help, type, label_names, bounds)) {
      out.error = metric + ": already registered as a " + std::string(MetricTypeName(it->second->type())) +
                  " with a different definition (type, help, label names or buckets)";
      return out;
    }
    out.family = static_cast<F*>(it->second.get());  // same type, checked just above
    return out;
  }
  // A histogram writes name_bucket, name_sum and name_count; no other family may own those names.
  for (std::string_view suffix : kHistogramSuffixes) {
    if (type == MetricType::kHistogram) {
      const std::string derived = std::string(name) + std::string(suffix);
      if (families_.contains(derived)) {
        out.error = metric + ": its series " + derived + " would collide with the metric of that name";
        return out;
      }
    }
    if (name.ends_with(suffix)) {
      const std::string_view base = name.substr(0, name.size() - suffix.size());
      auto it = families_.find(base);
      if (it != families_.end() && it->second->type() == MetricType::kHistogram) {
        out.error = metric + ": collides with a series of histogram \"" + std::string(base) + "\"";
        return out;
      }
    }
  }
  auto family = std::make_unique<F>(std::string(name), std::string(help), type,
                                    std::move(label_names), std::move(bounds));
  // Without labels there is exactly one series; create it now so the metric shows as 0 from the
  // first scrape instead of appearing only after its first update.
  if (family->label_names().empty()) family->Get();
  out.family = family.get();
  families_.emplace(std::string(name), std::move(family));
  return out;
}

Registration<CounterFamily> Registry::AddCounter(std::string_view name, std::string_view help,
                                                 std::vector<std::string> label_names) {
  return Add<CounterFamily>(name, help, MetricType::kCounter, std::move(label_names), {});
}

Registration<GaugeFamily> Registry::AddGauge(std::string_view name, std::string_view help,
                                             std::vector<std::string> label_names) {
  return Add<GaugeFamily>(name, help, MetricType::kGauge, std::move(label_names), {});
}

Registration<HistogramFamily> Registry::AddHistogram(std::string_view name, std::string_view help,
                                                     std::vector<double> bounds,
                                                     std::vector<std::string> label_names) {
  return Add<HistogramFamily>(name, help, MetricType::kHistogram, std::move(label_names),
                              std::move(bounds));
}

std::vector<FamilySnapshot> Registry::Snapshot() const {
  std::vector<FamilySnapshot> out;
  std::lock_guard lock(mu_);
  out.reserve(families_.size());
  for (const auto& [name, family] : families_) {
    FamilySnapshot snap = family->Snapshot();
    if (!snap.series.empty()) out.push_back(std::move(snap));
  }
  return out;
}

}  // namespace cmesh::metrics
