// Helpers for the route table tests: RouteConfigurations from JSON (protobuf's JSON mapping, the
// shape of `cmeshctl compile -o json`), and requests with owned storage.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cmesh/router/route_table.h"

namespace cmesh::router::testing {

// Builds a table from a RouteConfiguration in JSON; fails the test when JSON or Build fails.
std::shared_ptr<const RouteTable> BuildJson(std::string_view json);

// Builds a table that must be refused; returns Build's error (fails the test when Build succeeds).
std::string BuildErrorJson(std::string_view json);

// A config with one virtual host "vh" (domains ["*"]) whose routes are `routes_json` (a JSON
// array), for tests that are about one route.
std::string OneHost(std::string_view routes_json, std::string_view vhost_extra = "");

struct Request {
  std::string method = "GET";
  std::string path = "/";
  std::string authority = "example.com";
  std::string scheme = "http";
  std::vector<std::pair<std::string, std::string>> headers;

  // The view; valid while this Request is alive and unchanged.
  RequestView View();

 private:
  std::vector<http1::Header> fields_;
};

Request Get(std::string path, std::string authority = "example.com");

}  // namespace cmesh::router::testing
