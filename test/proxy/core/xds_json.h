// xDS resources for the request-path tests, written as Envoy JSON (as `istioctl proxy-config`
// prints them) and held as the xDS client would hold them.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cmesh/xds_client/xds_state.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace cmesh::proxy_core::xds_json {

// The message `json` describes; a parse error fails the test (and names the JSON).
template <typename T>
std::shared_ptr<const T> FromJson(const std::string& json) {
  // Links the messages the JSON's Any fields name, so the parser knows their type URLs.
  EXPECT_NE(envoy::extensions::filters::http::router::v3::Router::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::http::fault::v3::HTTPFault::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::upstreams::http::v3::HttpProtocolOptions::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::listener::http_inspector::v3::HttpInspector::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::descriptor(),
            nullptr);
  auto message = std::make_shared<T>();
  auto status = google::protobuf::util::JsonStringToMessage(json, message.get());
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return message;
}

// As the xDS client keeps it.
template <typename T>
xds_client::Resource<T> ResourceFromJson(const std::string& json) {
  return xds_client::MakeResource(*FromJson<T>(json));
}

}  // namespace cmesh::proxy_core::xds_json
