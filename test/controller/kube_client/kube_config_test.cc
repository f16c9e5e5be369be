#include "cmesh/kube/kube_config.h"

#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "temp_dir.h"

namespace cmesh::kube {
namespace {

using ::testing::HasSubstr;

// Independent of the decoder under test: a plain RFC 4648 encoder.
std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (bytes.size() - i == 1) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

const std::string kCaPem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string kCertPem = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const std::string kKeyPem = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

TEST(DecodeBase64, Rfc4648Vectors) {
  EXPECT_EQ(DecodeBase64(""), "");
  EXPECT_EQ(DecodeBase64("Zg=="), "f");
  EXPECT_EQ(DecodeBase64("Zm8="), "fo");
  EXPECT_EQ(DecodeBase64("Zm9v"), "foo");
  EXPECT_EQ(DecodeBase64("Zm9vYmFy"), "foobar");
  EXPECT_EQ(DecodeBase64("Zm9v\nYmFy\n"), "foobar");  // line-wrapped, as `base64` writes it
  EXPECT_EQ(DecodeBase64("Zg"), "f");                 // padding may be left out
}

TEST(DecodeBase64, RejectsWhatIsNotBase64) {
  EXPECT_EQ(DecodeBase64("Zm9v!"), std::nullopt);
  EXPECT_EQ(DecodeBase64("Z"), std::nullopt);        // a lone character cannot encode a byte
  EXPECT_EQ(DecodeBase64("Zg==Zg=="), std::nullopt);  // data after padding
  EXPECT_EQ(DecodeBase64("Zh=="), std::nullopt);      // non-zero bits left over
}

TEST(DecodeBase64, RoundTripsEveryByteValue) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (size_t length : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{255}, size_t{256}}) {
    EXPECT_EQ(DecodeBase64(Base64(all.substr(0, length))), all.substr(0, length)) << length;
  }
}

std::string TwoContexts(const std::string& admin_user_body) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: admin\n"
         "clusters:\n"
         "- name: test\n"
         "  cluster:\n"
         "    server: https://127.0.0.1:6443/\n"
         "    certificate-authority-data: " + Base64(kCaPem) + "\n"
         "- name: other\n"
         "  cluster:\n"
         "    server: https://10.1.2.3:443\n"
         "    certificate-authority: certs/ca.crt\n"
         "    insecure-skip-tls-verify: true\n"
         "contexts:\n"
         "- name: admin\n"
         "  context: {cluster: test, user: admin, namespace: shop}\n"
         "- name: robot\n"
         "  context: {cluster: other, user: robot}\n"
         "users:\n"
         "- name: admin\n"
         "  user:\n" + admin_user_body +
         "- name: robot\n"
         "  user:\n"
         "    tokenFile: secrets/token\n";
}

const std::string kAdminWithData = "    client-certificate-data: " + Base64(kCertPem) + "\n" +
                                   "    client-key-data: " + Base64(kKeyPem) + "\n";

TEST(LoadKubeconfig, CurrentContextSelectsClusterAndUser) {
  testing::TempDir dir;
  dir.Write("config", TwoContexts(kAdminWithData));
  KubeResult<KubeConfig> loaded = LoadKubeconfig(dir.Path("config"));
  ASSERT_TRUE(loaded.ok()) << loaded.error.message;
  const KubeConfig& config = *loaded.value;
  EXPECT_EQ(config.server, "https://127.0.0.1:6443");  // trailing slash dropped: paths start with '/'
  EXPECT_EQ(config.ca_pem, kCaPem);
  EXPECT_EQ(config.client_cert_pem, kCertPem);
  EXPECT_EQ(config.client_key_pem, kKeyPem);
  EXPECT_EQ(config.token, "");
  EXPECT_EQ(config.token_file, "");
  EXPECT_FALSE(config.insecure_skip_tls_verify);
  EXPECT_EQ(config.default_namespace, "shop");
  EXPECT_THAT(config.source, HasSubstr(dir.Path("config")));
  EXPECT_THAT(config.source, HasSubstr("context admin"));
}

TEST(LoadKubeconfig, FilePathsAreRelativeToTheKubeconfigsDirectory) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Path("kube/certs"));
  std::filesystem::create_directories(dir.Path("kube/secrets"));
  dir.Write("kube/config", TwoContexts(kAdminWithData));
  dir.Write("kube/certs/ca.crt", kCaPem);
  dir.Write("kube/secrets/token", "robot-token\n");
  KubeResult<KubeConfig> loaded = LoadKubeconfig(dir.Path("kube/config"), "robot");
  ASSERT_TRUE(loaded.ok()) << loaded.error.message;
  EXPECT_EQ(loaded.value->server, "https://10.1.2.3:443");
  EXPECT_EQ(loaded.value->ca_pem, kCaPem);
  EXPECT_TRUE(loaded.value->insecure_skip_tls_verify);
  EXPECT_EQ(loaded.value->token_file, dir.Path("kube/secrets/token"));  // kept as a path: it rotates
  EXPECT_EQ(loaded.value->default_namespace, "");
}

TEST(LoadKubeconfig, ClientCertificateFilesAndInlineToken) {
  testing::TempDir dir;
  dir.Write("client.crt", kCertPem);
  dir.Write("client.key", kKeyPem);
  dir.Write("config", TwoContexts("    client-certificate: client.crt\n    client-key: " + dir.Path("client.key") +
                                  "\n    token: \" abc.def \"\n"));
  KubeResult<KubeConfig> loaded = LoadKubeconfig(dir.Path("config"));
  ASSERT_TRUE(loaded.ok()) << loaded.error.message;
  EXPECT_EQ(loaded.value->client_cert_pem, kCertPem);
  EXPECT_EQ(loaded.value->client_key_pem, kKeyPem);
  EXPECT_EQ(loaded.value->token, "abc.def");
}

// Loads `text` as a kubeconfig and returns the error, which must be set.
std::string LoadError(const std::string& text, const std::string& context = "") {
  testing::TempDir dir;
  dir.Write("config", text);
  KubeResult<KubeConfig> loaded = LoadKubeconfig(dir.Path("config"), context);
  EXPECT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error.message, HasSubstr("kubeconfig " + dir.Path("config")));
  return loaded.error.message;
}

TEST(LoadKubeconfig, ErrorsNameTheFileAndTheField) {
  EXPECT_THAT(LoadError(TwoContexts("    client-certificate-data: " + Base64(kCertPem) +
                                    "\n    client-key-data: not*base64\n")),
              HasSubstr("users[name=\"admin\"].user.client-key-data: is not valid base64"));
  EXPECT_THAT(LoadError(TwoContexts("    client-certificate-data: " + Base64("hello") + "\n")),
              HasSubstr("users[name=\"admin\"].user.client-certificate-data: does not hold PEM data"));
  EXPECT_THAT(LoadError(TwoContexts("    client-certificate-data: " + Base64(kCertPem) + "\n")),
              HasSubstr("client-certificate is set without client-key"));
  EXPECT_THAT(LoadError(TwoContexts(kAdminWithData), "robot"),
              HasSubstr("clusters[name=\"other\"].cluster.certificate-authority: cannot read"));
  EXPECT_THAT(LoadError(TwoContexts(kAdminWithData), "nope"), HasSubstr("contexts: no entry named \"nope\""));
  EXPECT_THAT(LoadError(TwoContexts("    exec: {command: aws}\n")),
              HasSubstr("users[name=\"admin\"].user.exec: credential plugins are not supported"));
  EXPECT_THAT(LoadError("clusters: []\n"), HasSubstr("current-context is not set"));
  EXPECT_THAT(LoadError("clusters: [\n"), HasSubstr("invalid YAML"));
  EXPECT_THAT(LoadError("just text\n"), HasSubstr("not a YAML map"));
  EXPECT_THAT(LoadError("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                        "clusters: [{name: k, cluster: {certificate-authority-data: x}}]\n"),
              HasSubstr("clusters[name=\"k\"].cluster.server: is missing"));
  EXPECT_THAT(LoadError("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                        "clusters: [{name: k, cluster: {server: 127.0.0.1:6443}}]\n"),
              HasSubstr("is not an http(s):// URL"));
  EXPECT_THAT(LoadError("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                        "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
                        "users: [{name: u, user: {tokenFile: missing-token}}]\n"),
              HasSubstr("users[name=\"u\"].user.tokenFile: cannot read"));
}

TEST(LoadKubeconfig, MissingFile) {
  KubeResult<KubeConfig> loaded = LoadKubeconfig("/nonexistent/kubeconfig");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error.message, HasSubstr("/nonexistent/kubeconfig"));
}

// Sets (or unsets, for nullptr) an environment variable for the test's duration.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

InClusterPaths PathsIn(const testing::TempDir& dir) {
  return InClusterPaths{dir.Path("token"), dir.Path("ca.crt"), dir.Path("namespace")};
}

TEST(LoadInClusterConfig, ServiceAccountFilesAndServiceEnvironment) {
  testing::TempDir dir;
  dir.Write("token", "sa-token\n");
  dir.Write("ca.crt", kCaPem);
  dir.Write("namespace", "istio-system");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  EXPECT_TRUE(InClusterEnvironment());
  KubeResult<KubeConfig> loaded = LoadInClusterConfig(PathsIn(dir));
  ASSERT_TRUE(loaded.ok()) << loaded.error.message;
  EXPECT_EQ(loaded.value->server, "https://10.96.0.1:443");
  EXPECT_EQ(loaded.value->ca_pem, kCaPem);
  EXPECT_EQ(loaded.value->token_file, dir.Path("token"));
  EXPECT_EQ(loaded.value->token, "");
  EXPECT_EQ(loaded.value->default_namespace, "istio-system");
}

TEST(LoadInClusterConfig, Ipv6ServiceHostIsBracketed) {
  testing::TempDir dir;
  dir.Write("token", "sa-token");
  dir.Write("ca.crt", kCaPem);
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "fd00::1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "6443");
  KubeResult<KubeConfig> loaded = LoadInClusterConfig(PathsIn(dir));
  ASSERT_TRUE(loaded.ok()) << loaded.error.message;
  EXPECT_EQ(loaded.value->server, "https://[fd00::1]:6443");
  EXPECT_EQ(loaded.value->default_namespace, "default");  // no namespace file
}

TEST(LoadInClusterConfig, Errors) {
  testing::TempDir dir;
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", nullptr);
    EXPECT_FALSE(InClusterEnvironment());
    KubeResult<KubeConfig> loaded = LoadInClusterConfig(PathsIn(dir));
    ASSERT_FALSE(loaded.ok());
    EXPECT_THAT(loaded.error.message, HasSubstr("KUBERNETES_SERVICE_HOST"));
  }
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  KubeResult<KubeConfig> no_ca = LoadInClusterConfig(PathsIn(dir));
  ASSERT_FALSE(no_ca.ok());
  EXPECT_THAT(no_ca.error.message, HasSubstr(dir.Path("ca.crt")));
  dir.Write("ca.crt", kCaPem);
  KubeResult<KubeConfig> no_token = LoadInClusterConfig(PathsIn(dir));
  ASSERT_FALSE(no_token.ok());
  EXPECT_THAT(no_token.error.message, HasSubstr(dir.Path("token")));
}

}  // namespace
}  // namespace cmesh::kube
