// The webhook's HTTP surface without a server: method, path and body in, status and body out.
// cmesh-pilot's HTTPS listener (15017) calls Serve for every request; tests call it directly.
#pragma once

#include <string>

#include "cmesh/webhook/injector.h"

namespace cmesh::webhook {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Routes:
//   POST /inject    (and /inject/...: Istio's multicluster paths) → Injector::Handle
//   POST /validate  (and /validate/...)                          → HandleValidation
// The query string (the apiserver adds ?timeout=10s) is ignored. A body that is not an
// AdmissionReview v1 → 400 with a plain-text message saying what is wrong; another method → 405;
// another path → 404. Never throws.
HttpAnswer ServeWebhook(const Injector& injector, const std::string& method, const std::string& path,
                        const std::string& body);

}  // namespace cmesh::webhook
