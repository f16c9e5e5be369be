// Small conversions from the model to protobuf well-known types.
#pragma once

#include <google/protobuf/duration.pb.h>

#include "cmesh/model/common.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/type/v3/percent.pb.h"

namespace cmesh::compiler {

inline void SetDuration(const model::Duration& d, google::protobuf::Duration* out) {
  out->set_seconds(d.nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(d.nanos % 1'000'000'000));
}

// Istio's percentage (0-100, fractional) as parts per million.
inline void SetFractionalPercent(double percent, envoy::type::v3::FractionalPercent* out) {
  if (percent < 0) percent = 0;
  if (percent > 100) percent = 100;
  out->set_numerator(static_cast<uint32_t>(percent * 10000.0 + 0.5));
  out->set_denominator(envoy::type::v3::FractionalPercent::MILLION);
}

// `ads: {}` with the v3 resource API, the config source of every EDS cluster and RDS listener.
inline void SetAds(envoy::config::core::v3::ConfigSource* source) {
  source->mutable_ads();
  source->set_resource_api_version(envoy::config::core::v3::V3);
}

}  // namespace cmesh::compiler
