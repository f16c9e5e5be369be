// KubeError messages that a person can act on: the verb, the resource and the scope of the failed
// call, and for 401/403 what to fix (credentials, or the RBAC rule that is missing).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube {

enum class KubeVerb { kList, kWatch, kGet, kCreate, kUpdate, kPatch, kUpdateStatus, kDelete };

// The verb as RBAC spells it ("list", "watch", ...; a status update is "update").
const char* RbacVerb(KubeVerb verb);

// One API call, described for messages.
struct KubeCall {
  KubeVerb verb = KubeVerb::kGet;
  ResourceKind kind;
  std::string ns;    // empty: all namespaces (or cluster-scoped)
  std::string name;  // empty for collections
  // `list v1 configmaps in namespace "a"`, `get networking.istio.io/v1 virtualservices "r" in
  // namespace "a"`, `list v1 namespaces (cluster scope)`.
  std::string Describe() const;
  // RBAC's resource: "configmaps", or "virtualservices/status" for a status update.
  std::string RbacResource() const;
  // `namespace "a"`, `all namespaces`, or `the cluster scope`.
  std::string Scope() const;
};

// Who we are, for 401 messages: `client certificate from kubeconfig /k (context c, user u)`.
struct CredentialInfo {
  std::string server;
  std::string description;
};

// The error for an HTTP answer that is not 2xx. `body` is the server's Status object when it sent
// one (reason, message); anything else is quoted, shortened.
KubeError ErrorFromResponse(const KubeCall& call, const CredentialInfo& credentials, int http_status,
                            const std::string& body);

// The error for a Status object delivered as a watch ERROR event.
KubeError ErrorFromStatus(const KubeCall& call, const CredentialInfo& credentials, const nlohmann::json& status);

// No HTTP answer: connection refused, TLS failure, timeout. http_status stays 0.
KubeError TransportError(const KubeCall& call, const CredentialInfo& credentials, const std::string& what);

// The user named in a Forbidden message: `... User "system:serviceaccount:a:b" cannot list ...`.
// Empty when the message names none (anonymous requests say `User "system:anonymous"`).
std::string ForbiddenUser(std::string_view server_message);

}  // namespace cmesh::kube
