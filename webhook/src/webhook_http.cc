#include "cmesh/webhook/webhook_http.h"

#include "cmesh/webhook/config_validator.h"

namespace cmesh::webhook {
namespace {

bool Matches(const std::string& path, const std::string& route) {
  return path == route || path.rfind(route + "/", 0) == 0;
}

HttpAnswer Text(int status, std::string text) { return {status, "text/plain; charset=utf-8", std::move(text) + "\n"}; }

}  // namespace

HttpAnswer ServeWebhook(const Injector& injector, const std::string& method, const std::string& path,
                        const std::string& body) {
  const std::string route = path.substr(0, path.find('?'));
  const bool inject = Matches(route, "/inject");
  const bool validate = Matches(route, "/validate");
  if (!inject && !validate) return Text(404, "not found: the webhook serves POST /inject and POST /validate");
  if (method != "POST") return Text(405, "use POST with an AdmissionReview v1 body");
  std::string error;
  std::optional<AdmissionRequest> request = ParseAdmissionReview(body, &error);
  if (!request) return Text(400, "bad AdmissionReview: " + error);
  try {
    AdmissionResponse response = inject ? injector.Handle(*request) : HandleValidation(*request);
    return {200, "application/json", ToAdmissionReview(response).dump()};
  } catch (const std::exception& e) {
    // The handlers do not throw on any input we know of; if one ever does, the pod or object is
    // still answered (allowed, for /inject: never rejected by mistake) rather than the server
    // dropping the connection.
    AdmissionResponse response;
    response.uid = request->uid;
    response.allowed = inject;
    if (inject) {
      response.warnings.push_back(std::string("cmesh: sidecar not injected: internal error: ") + e.what());
    } else {
      response.code = 500;
      response.message = std::string("internal error: ") + e.what();
    }
    return {200, "application/json", ToAdmissionReview(response).dump()};
  }
}

}  // namespace cmesh::webhook
