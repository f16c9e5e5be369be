// Where the API server is and how to authenticate to it: from a kubeconfig file or from the
// service account of the pod we run in.
#pragma once

#include <optional>
#include <string>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube {

// Everything RestKubeClient needs to connect. PEM fields hold the data itself (files named by a
// kubeconfig are read at load time); the token file is kept as a path because it rotates.
struct KubeConfig {
  std::string server;           // https://host:port (no trailing slash)
  std::string ca_pem;           // empty: the system's trust store
  std::string client_cert_pem;  // with client_key_pem: TLS client authentication
  std::string client_key_pem;
  std::string token;            // a bearer token given inline
  std::string token_file;       // a bearer token re-read when the file changes (wins over token)
  bool insecure_skip_tls_verify = false;
  std::string default_namespace;  // the context's namespace, or the pod's namespace in-cluster
  std::string source;             // for messages: `kubeconfig /path (context admin, user admin)` or `in-cluster`
};

// Reads a kubeconfig: the current context (or `context` when given) selects a cluster and a
// user. *-data fields are base64; file paths are relative to the kubeconfig's directory. Errors
// name the file and the field.
KubeResult<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// The same from text: `base_dir` resolves relative paths, `source_name` names it in errors.
KubeResult<KubeConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                       const std::string& source_name, const std::string& context = "");

// Where a pod finds its service account; tests point these at their own files.
struct InClusterPaths {
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// True when KUBERNETES_SERVICE_HOST is set, i.e. we probably run in a pod.
bool InClusterEnvironment();

// KUBERNETES_SERVICE_HOST/_PORT, the CA and the token file (kept as a path: it rotates).
KubeResult<KubeConfig> LoadInClusterConfig(const InClusterPaths& paths = {});

// Standard base64 (RFC 4648) with optional padding; whitespace is ignored. nullopt when invalid.
std::optional<std::string> DecodeBase64(const std::string& text);

}  // namespace cmesh::kube
