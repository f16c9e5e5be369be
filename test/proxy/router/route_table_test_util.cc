#include "route_table_test_util.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"

namespace cmesh::router::testing {
namespace {

bool Parse(std::string_view json, envoy::config::route::v3::RouteConfiguration* config) {
  // Referenced so its descriptor is linked in: Istio's retry policies carry it in an Any.
  (void)envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate::descriptor();
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json), config);
  if (!status.ok()) {
    ADD_FAILURE() << "bad test JSON: " << status.ToString() << "\n" << json;
    return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const RouteTable> BuildJson(std::string_view json) {
  envoy::config::route::v3::RouteConfiguration config;
  if (!Parse(json, &config)) return nullptr;
  std::string error;
  auto table = RouteTable::Build(config, &error);
  if (!table) ADD_FAILURE() << "Build failed: " << error;
  return table;
}

std::string BuildErrorJson(std::string_view json) {
  envoy::config::route::v3::RouteConfiguration config;
  if (!Parse(json, &config)) return "(bad JSON)";
  std::string error;
  auto table = RouteTable::Build(config, &error);
  if (table) ADD_FAILURE() << "Build accepted a configuration it should refuse:\n" << json;
  if (!table && error.empty()) ADD_FAILURE() << "Build failed without an error";
  return error;
}

std::string OneHost(std::string_view routes_json, std::string_view vhost_extra) {
  std::string out = R"({"name": "rc", "virtualHosts": [{"name": "vh", "domains": ["*"], )";
  if (!vhost_extra.empty()) out.append(vhost_extra).append(", ");
  out.append(R"("routes": )").append(routes_json).append("}]}");
  return out;
}

RequestView Request::View() {
  fields_.clear();
  for (const auto& [name, value] : headers) fields_.push_back({name, value});
  RequestView view;
  view.method = method;
  view.path = path;
  view.authority = authority;
  view.scheme = scheme;
  view.headers = fields_;
  return view;
}

Request Get(std::string path, std::string authority) {
  Request r;
  r.path = std::move(path);
  r.authority = std::move(authority);
  return r;
}

}  // namespace cmesh::router::testing
