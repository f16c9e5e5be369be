#include "cmesh/kube/kube_config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace cmesh::kube {
namespace {

KubeResult<KubeConfig> Fail(std::string message) {
  KubeResult<KubeConfig> result;
  result.error.message = std::move(message);
  return result;
}

std::optional<std::string> ReadWholeFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trim(const std::string& text) {
  const char* blanks = " \t\r\n";
  size_t begin = text.find_first_not_of(blanks);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(blanks) - begin + 1);
}

// Reads fields of one kubeconfig, remembering the first error with the file and field it is about.
class KubeconfigReader {
 public:
  KubeconfigReader(std::string source, std::string base_dir) : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  void Error(const std::string& field, const std::string& what) {
    if (error_.empty()) error_ = "kubeconfig " + source_ + ": " + field + ": " + what;
  }
  void Error(const std::string& what) {
    if (error_.empty()) error_ = "kubeconfig " + source_ + ": " + what;
  }

  // A string field; "" when absent.
  std::string String(const YAML::Node& parent, const char* key, const std::string& field) {
    YAML::Node node = parent[key];
    if (!node || node.IsNull()) return "";
    if (!node.IsScalar()) {
      Error(field, "must be a string");
      return "";
    }
    return node.Scalar();
  }

  bool Bool(const YAML::Node& parent, const char* key, const std::string& field) {
    YAML::Node node = parent[key];
    if (!node || node.IsNull()) return false;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) Error(field, "must be true or false");
    return value;
  }

  // The named entry of a list such as `clusters`: [{name: x, cluster: {...}}].
  YAML::Node Entry(const YAML::Node& root, const char* list, const char* inner, const std::string& name) {
    YAML::Node entries = root[list];
    if (entries && !entries.IsNull() && !entries.IsSequence()) {
      Error(list, "must be a list");
      return YAML::Node();
    }
    if (entries) {
      for (const auto& entry : entries) {
        if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() && entry["name"].Scalar() == name) {
          YAML::Node body = entry[inner];
          if (body && !body.IsNull() && !body.IsMap()) {
            Error(Where(list, name, inner), "must be a map");
            return YAML::Node();
          }
          return body ? body : YAML::Node(YAML::NodeType::Map);
        }
      }
    }
    Error(std::string(list) + ": no entry named \"" + name + "\"");
    return YAML::Node();
  }

  static std::string Where(const char* list, const std::string& name, const char* inner) {
    return std::string(list) + "[name=\"" + name + "\"]." + inner;
  }

  // PEM data from `<key>-data` (base64) or from the file `<key>` (relative to the kubeconfig).
  std::string Pem(const YAML::Node& parent, const std::string& key, const std::string& where) {
    std::string data_field = where + "." + key + "-data";
    std::string data = String(parent, (key + "-data").c_str(), data_field);
    if (!data.empty()) {
      std::optional<std::string> decoded = DecodeBase64(data);
      if (!decoded) {
        Error(data_field, "is not valid base64");
        return "";
      }
      if (decoded->find("-----BEGIN") == std::string::npos) {
        Error(data_field, "does not hold PEM data (no -----BEGIN line after base64 decoding)");
        return "";
      }
      return *decoded;
    }
    std::string file_field = where + "." + key;
    std::string path = String(parent, key.c_str(), file_field);
    if (path.empty()) return "";
    std::string read_error;
    std::optional<std::string> text = ReadWholeFile(Resolve(path), &read_error);
    if (!text) {
      Error(file_field, read_error);
      return "";
    }
    return *text;
  }

  std::string Resolve(const std::string& path) const {
    if (path.empty() || path[0] == '/' || base_dir_.empty()) return path;
    return (std::filesystem::path(base_dir_) / path).lexically_normal().string();
  }

 private:
  std::string source_;
  std::string base_dir_;
  std::string error_;
};

}  // namespace

std::optional<std::string> DecodeBase64(const std::string& text) {
  std::string out;
  unsigned int buffer = 0;
  int bits = 0;
  int padding = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+') {
      value = 62;
    } else if (c == '/') {
      value = 63;
    } else if (c == '=') {
      ++padding;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    } else {
      return std::nullopt;
    }
    if (padding > 0) return std::nullopt;  // data after '='
    buffer = (buffer << 6) | static_cast<unsigned int>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Leftover bits must be fewer than a byte and zero; 6 leftover bits mean a lone character.
  if (bits >= 6 || (buffer & ((1u << bits) - 1)) != 0 || padding > 2) return std::nullopt;
  return out;
}

KubeResult<KubeConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                       const std::string& source_name, const std::string& context) {
  KubeconfigReader reader(source_name, base_dir);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Fail("kubeconfig " + source_name + ": invalid YAML: " + e.what());
  }
  if (!root.IsMap()) return Fail("kubeconfig " + source_name + ": not a YAML map (is this a kubeconfig?)");

  try {
    std::string context_name = context.empty() ? reader.String(root, "current-context", "current-context") : context;
    if (reader.failed()) return Fail(reader.error());
    if (context_name.empty()) {
      return Fail("kubeconfig " + source_name + ": current-context is not set and no context was given");
    }
    const YAML::Node ctx = reader.Entry(root, "contexts", "context", context_name);
    if (reader.failed()) return Fail(reader.error());
    std::string ctx_where = KubeconfigReader::Where("contexts", context_name, "context");
    std::string cluster_name = reader.String(ctx, "cluster", ctx_where + ".cluster");
    std::string user_name = reader.String(ctx, "user", ctx_where + ".user");
    KubeConfig config;
    config.default_namespace = reader.String(ctx, "namespace", ctx_where + ".namespace");
    if (reader.failed()) return Fail(reader.error());
    if (cluster_name.empty()) return Fail("kubeconfig " + source_name + ": " + ctx_where + ".cluster is missing");

    const YAML::Node cluster = reader.Entry(root, "clusters", "cluster", cluster_name);
    if (reader.failed()) return Fail(reader.error());
    std::string cluster_where = KubeconfigReader::Where("clusters", cluster_name, "cluster");
    config.server = reader.String(cluster, "server", cluster_where + ".server");
    if (!reader.failed() && config.server.empty()) reader.Error(cluster_where + ".server", "is missing");
    if (!reader.failed() && config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
      reader.Error(cluster_where + ".server", "\"" + config.server + "\" is not an http(s):// URL");
    }
    while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
    config.ca_pem = reader.Pem(cluster, "certificate-authority", cluster_where);
    config.insecure_skip_tls_verify =
        reader.Bool(cluster, "insecure-skip-tls-verify", cluster_where + ".insecure-skip-tls-verify");
    if (!reader.failed() && cluster["proxy-url"]) {
      reader.Error(cluster_where + ".proxy-url", "proxies are not supported");
    }
    if (reader.failed()) return Fail(reader.error());

    if (!user_name.empty()) {
      const YAML::Node user = reader.Entry(root, "users", "user", user_name);
      if (reader.failed()) return Fail(reader.error());
      std::string user_where = KubeconfigReader::Where("users", user_name, "user");
      if (user["exec"] || user["auth-provider"]) {
        return Fail("kubeconfig " + source_name + ": " + user_where + (user["exec"] ? ".exec" : ".auth-provider") +
                    ": credential plugins are not supported; use a client certificate, token or tokenFile");
      }
      if (user["username"] || user["password"]) {
        return Fail("kubeconfig " + source_name + ": " + user_where +
                    ".username/password: basic authentication is not supported; use a client certificate, token "
                    "or tokenFile");
      }
      config.client_cert_pem = reader.Pem(user, "client-certificate", user_where);
      config.client_key_pem = reader.Pem(user, "client-key", user_where);
      config.token = Trim(reader.String(user, "token", user_where + ".token"));
      std::string token_file = reader.String(user, "tokenFile", user_where + ".tokenFile");
      if (reader.failed()) return Fail(reader.error());
      if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
        return Fail("kubeconfig " + source_name + ": " + user_where + ": " +
                    (config.client_cert_pem.empty() ? "client-key is set without client-certificate"
                                                     : "client-certificate is set without client-key"));
      }
      if (!token_file.empty()) {
        config.token_file = reader.Resolve(token_file);
        std::string read_error;
        if (!ReadWholeFile(config.token_file, &read_error)) {
          return Fail("kubeconfig " + source_name + ": " + user_where + ".tokenFile: " + read_error);
        }
      }
    }
    config.source = "kubeconfig " + source_name + " (context " + context_name + ", user " +
                    (user_name.empty() ? "<none>" : user_name) + ")";
    KubeResult<KubeConfig> result;
    result.value = std::move(config);
    return result;
  } catch (const YAML::Exception& e) {
    return Fail("kubeconfig " + source_name + ": " + e.what());
  }
}

KubeResult<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  std::string read_error;
  std::optional<std::string> text = ReadWholeFile(path, &read_error);
  if (!text) return Fail("kubeconfig: " + read_error);
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return ParseKubeconfig(*text, base_dir, path, context);
}

bool InClusterEnvironment() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  return host != nullptr && *host != '\0';
}

KubeResult<KubeConfig> LoadInClusterConfig(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return Fail("in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set "
                "(not running in a pod? pass --kubeconfig)");
  }
  KubeConfig config;
  std::string host_text = host;
  if (host_text.find(':') != std::string::npos) host_text = "[" + host_text + "]";  // IPv6
  config.server = "https://" + host_text + ":" + port;

  std::string read_error;
  std::optional<std::string> ca = ReadWholeFile(paths.ca_file, &read_error);
  if (!ca) return Fail("in-cluster configuration: the service account's CA: " + read_error);
  config.ca_pem = *ca;
  std::optional<std::string> token = ReadWholeFile(paths.token_file, &read_error);
  if (!token) return Fail("in-cluster configuration: the service account's token: " + read_error);
  if (Trim(*token).empty()) return Fail("in-cluster configuration: the service account's token " + paths.token_file + " is empty");
  config.token_file = paths.token_file;
  std::optional<std::string> ns = ReadWholeFile(paths.namespace_file, &read_error);
  config.default_namespace = ns ? Trim(*ns) : "default";
  config.source = "in-cluster service account (" + paths.token_file + ")";
  KubeResult<KubeConfig> result;
  result.value = std::move(config);
  return result;
}

}  // namespace cmesh::kube
