#include "cmesh/kube/kube_errors.h"

namespace cmesh::kube {
namespace {

const char* VerbWords(KubeVerb verb) {
  switch (verb) {
    case KubeVerb::kList: return "list";
    case KubeVerb::kWatch: return "watch";
    case KubeVerb::kGet: return "get";
    case KubeVerb::kCreate: return "create";
    case KubeVerb::kUpdate: return "update";
    case KubeVerb::kPatch: return "patch";
    case KubeVerb::kUpdateStatus: return "update the status of";
    case KubeVerb::kDelete: return "delete";
  }
  return "call";
}

// The reason the API server would give for a status without a Status body.
const char* DefaultReason(int http_status) {
  switch (http_status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
  }
}

std::string Shorten(const std::string& text, size_t limit = 400) {
  if (text.size() <= limit) return text;
  return text.substr(0, limit) + "...";
}

std::string JsonString(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

KubeError BuildError(const KubeCall& call, const CredentialInfo& credentials, int http_status, std::string reason,
                     const std::string& server_message) {
  KubeError error;
  error.http_status = http_status;
  if (reason.empty()) reason = DefaultReason(http_status);
  error.reason = reason;
  std::string said = server_message.empty() ? std::string() : ": " + server_message;
  std::string code = "HTTP " + std::to_string(http_status) + (reason.empty() ? "" : " " + reason);
  if (http_status == 401) {
    error.message = "Unauthorized: the API server at " + credentials.server + " rejected the credentials (" +
                    credentials.description + ") to " + call.Describe() + " (" + code + said +
                    "); check that the token or client certificate is valid, not expired, and accepted by this "
                    "server";
    return error;
  }
  std::string user = ForbiddenUser(server_message);
  if (http_status == 403 && !user.empty()) {
    std::string group = call.kind.group;
    std::string resource = call.kind.ApiVersion() + " " + call.RbacResource();
    if (!call.name.empty()) resource += " \"" + call.name + "\"";
    error.message = "RBAC: " + user + " cannot " + RbacVerb(call.verb) + " " + resource + " in " + call.Scope() +
                    "; the ClusterRole needs: apiGroups [\"" + group + "\"], resources [\"" + call.RbacResource() +
                    "\"], verbs [\"" + RbacVerb(call.verb) + "\"] (" + code + said + ")";
    return error;
  }
  if (http_status == 403) {
    error.message = "Forbidden: " + call.Describe() + " (" + code + said + ")";
    return error;
  }
  error.message = call.Describe() + ": " + code + said;
  return error;
}

}  // namespace

const char* RbacVerb(KubeVerb verb) {
  switch (verb) {
    case KubeVerb::kList: return "list";
    case KubeVerb::kWatch: return "watch";
    case KubeVerb::kGet: return "get";
    case KubeVerb::kCreate: return "create";
    case KubeVerb::kUpdate: return "update";
    case KubeVerb::kPatch: return "patch";
    case KubeVerb::kUpdateStatus: return "update";
    case KubeVerb::kDelete: return "delete";
  }
  return "";
}

std::string KubeCall::RbacResource() const {
  return verb == KubeVerb::kUpdateStatus ? kind.plural + "/status" : kind.plural;
}

std::string KubeCall::Scope() const {
  if (!kind.namespaced) return "the cluster scope";
  if (ns.empty()) return "all namespaces";
  return "namespace \"" + ns + "\"";
}

std::string KubeCall::Describe() const {
  std::string text = std::string(VerbWords(verb)) + " " + kind.ApiVersion() + " " + kind.plural;
  if (!name.empty()) text += " \"" + name + "\"";
  if (!kind.namespaced) return text + " (cluster-scoped)";
  return text + " in " + Scope();
}

std::string ForbiddenUser(std::string_view server_message) {
  // kube-apiserver's RBAC denial: `... is forbidden: User "NAME" cannot VERB resource ...`.
  static constexpr std::string_view kUser = "User \"";
  size_t start = server_message.find(kUser);
  if (start == std::string_view::npos) return "";
  start += kUser.size();
  size_t end = server_message.find('"', start);
  if (end == std::string_view::npos || end == start) return "";
  if (server_message.substr(end + 1, 8) != " cannot ") return "";
  return std::string(server_message.substr(start, end - start));
}

KubeError ErrorFromResponse(const KubeCall& call, const CredentialInfo& credentials, int http_status,
                            const std::string& body) {
  nlohmann::json status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!status.is_discarded() && status.is_object() && JsonString(status, "kind") == "Status") {
    return BuildError(call, credentials, http_status, JsonString(status, "reason"), JsonString(status, "message"));
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return BuildError(call, credentials, http_status, "", Shorten(text));
}

KubeError ErrorFromStatus(const KubeCall& call, const CredentialInfo& credentials, const nlohmann::json& status) {
  int code = 0;
  if (auto it = status.find("code"); it != status.end() && it->is_number_integer()) code = it->get<int>();
  std::string reason = JsonString(status, "reason");
  if (code == 0 && (reason == "Expired" || reason == "Gone")) code = 410;
  if (code == 0) code = 500;  // an ERROR event without a code still ends the watch as a server error
  return BuildError(call, credentials, code, reason, JsonString(status, "message"));
}

KubeError TransportError(const KubeCall& call, const CredentialInfo& credentials, const std::string& what) {
  KubeError error;
  error.message = call.Describe() + ": no answer from the API server at " + credentials.server + ": " + what;
  return error;
}

}  // namespace cmesh::kube
