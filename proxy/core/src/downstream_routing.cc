// The routing part of the connection manager: the route table's decision for a request, CORS,
// the consistent-hash key, fault delays, and the choice of cluster.
#include "downstream_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "cmesh/router/request_view.h"
#include "request_fields.h"
#include "upstream_choice.h"

namespace cmesh::proxy_core {

// ---- routing ---------------------------------------------------------------------------------

void DownstreamConnection::Route() {
  config_ = worker_.config();
  if (!config_) return LocalReply(503, "NR", "no configuration received yet");
  const router::RouteTable* table = RouteTableForRequest();
  if (table == nullptr) {
    return LocalReply(404, "NR",
                      "no HTTP route configuration for port " +
                          std::to_string(context_.redirected ? context_.original_destination.port : target_port_));
  }
  Request& r = *request_;
  std::vector<http1::Header> views;
  views.reserve(r.headers.size());
  for (const auto& h : r.headers) views.push_back({h.name, h.value});
  router::RequestView view;
  view.method = r.method;
  view.path = r.path;
  view.authority = r.authority;
  view.headers = views;
  decision_ = table->Decide(view, worker_.random());
  route_name_ = decision_.route_name;
  if (ApplyCors()) return;
  switch (decision_.kind) {
    case router::Decision::Kind::kNoRoute:
      return LocalReply(404, "NR", "");
    case router::Decision::Kind::kRedirect:
      return LocalReply(static_cast<int>(decision_.status), "-", "", {{"location", decision_.location}});
    case router::Decision::Kind::kDirectResponse:
      return LocalReply(static_cast<int>(decision_.status), "-", decision_.body);
    case router::Decision::Kind::kCluster:
      break;
  }
  if (decision_.delay) {
    phase_ = Phase::kDelaying;
    flags_ = "DI";
    delay_timer_ = worker_.loop().RunAfter(decision_.delay_duration, [this] {
      delay_timer_ = 0;
      AfterDelay();
    });
    return;
  }
  AfterDelay();
}

// The filter chain's routes: inline ones kept by the connection, an RDS name looked up in this
// request's snapshot; an explicit-proxy connection routes by the request's port.
const router::RouteTable* DownstreamConnection::RouteTableForRequest() {
  if (context_.inline_routes) return context_.inline_routes.get();
  if (!context_.rds.empty()) {
    auto it = config_->routes.find(context_.rds);
    return it == config_->routes.end() ? nullptr : it->second.get();
  }
  return context_.redirected ? config_->RoutesFor(context_.original_destination.address, context_.original_destination.port)
                     : config_->RoutesFor("0.0.0.0", target_port_);
}

// Envoy's CORS filter: a preflight from an allowed origin is answered here; other requests from
// an allowed origin get the Access-Control-* headers on their answer. True when answered.
bool DownstreamConnection::ApplyCors() {
  const router::CorsPolicy* cors = decision_.cors;
  if (cors == nullptr) return false;
  const std::string* origin = FindHeader(request_->headers, "origin");
  if (origin == nullptr || origin->empty() || !cors->enabled.Sample(worker_.random())) return false;
  const bool preflight = request_->method == "OPTIONS" && FindHeader(request_->headers, "access-control-request-method");
  if (!cors->AllowsOrigin(*origin)) {
    if (preflight && !cors->forward_not_matching_preflights) {
      LocalReply(200, "-", "");
      return true;
    }
    return false;
  }
  extra_response_headers_.push_back({"access-control-allow-origin", *origin});
  if (cors->allow_credentials.value_or(false)) extra_response_headers_.push_back({"access-control-allow-credentials", "true"});
  if (preflight) {
    if (!cors->allow_methods.empty()) extra_response_headers_.push_back({"access-control-allow-methods", cors->allow_methods});
    if (!cors->allow_headers.empty()) extra_response_headers_.push_back({"access-control-allow-headers", cors->allow_headers});
    if (!cors->max_age.empty()) extra_response_headers_.push_back({"access-control-max-age", cors->max_age});
    LocalReply(200, "-", "");
    return true;
  }
  if (!cors->expose_headers.empty()) extra_response_headers_.push_back({"access-control-expose-headers", cors->expose_headers});
  return false;
}

void DownstreamConnection::AfterDelay() {
  if (decision_.abort) {
    return LocalReply(static_cast<int>(decision_.abort_status), "FI", "fault filter abort");
  }
  Forward();
}

void DownstreamConnection::Forward() {
  ClusterChoice choice = ChooseCluster(worker_, *config_, decision_, context_);
  cluster_ = std::move(choice.cluster);
  if (!choice.ok()) return LocalReply(choice.status, choice.flags, choice.detail);
  cluster_state_ = std::move(choice.state);
  if (cluster_->lb_policy == upstream::LbPolicy::kRingHash) {
    request_hash_ = RequestHash(decision_.hash_policies, {request_->headers, request_->path, request_->authority, context_.peer},
                                &extra_response_headers_);
  }
  if (request_->expect_continue && !request_->body_done) out_ += "HTTP/1.1 100 Continue\r\n\r\n";
  const std::chrono::milliseconds timeout = EffectiveRouteTimeout(decision_);
  if (timeout.count() > 0) {
    route_timer_ = worker_.loop().RunAfter(timeout, [this] {
      route_timer_ = 0;
      OnTimeout(false);
    });
  }
  StartAttempt();
  FlushDownstream();
}

}  // namespace cmesh::proxy_core
