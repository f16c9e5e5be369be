// Builds Envoy resources for simulator tests from protobuf-JSON text, the way Envoy's own route
// tests build a table from inline config.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>

#include "cmesh/simulator/request.h"

namespace cmesh::simulator::testing {

template <typename T>
T FromJson(const std::string& json) {
  T message;
  auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return message;
}

inline Request Get(const std::string& url) {
  std::string error;
  auto request = ParseUrl(url, &error);
  EXPECT_TRUE(request.has_value()) << error;
  return request.value_or(Request{});
}

inline Request WithHeader(Request r, const std::string& name, const std::string& value) {
  r.headers.emplace_back(name, value);
  return r;
}

}  // namespace cmesh::simulator::testing
