// RestKubeClient without a Kubernetes server: configuration checks, and the retry rules against a
// plain HTTP responder that answers every request with one fixed status. The API itself is tested
// against the real kube-apiserver (rest_kube_client_apiserver_test.cc).
#include "cmesh/kube/rest_kube_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube_env.h"
#include "test_paths.h"
#include "temp_dir.h"

namespace cmesh::kube {
namespace {

using ::testing::HasSubstr;

const ResourceKind kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};

RestClientOptions FastRetries() {
  RestClientOptions options;
  options.retry = BackoffPolicy{std::chrono::milliseconds(5), std::chrono::milliseconds(20), 3};
  options.request_timeout = std::chrono::seconds(10);
  return options;
}

// A loopback port that nothing listens on (bound, read, released).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Answers every HTTP request with `status_line` and `extra_headers`, counting the requests.
class FixedResponder {
 public:
  FixedResponder(std::string status_line, std::string extra_headers = "")
      : status_line_(std::move(status_line)), extra_headers_(std::move(extra_headers)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FixedResponder() {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    for (;;) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::string request;
      char buffer[4096];
      // Headers, then as many body bytes as Content-Length says.
      size_t body_needed = std::string::npos;
      size_t header_end = std::string::npos;
      while (true) {
        ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = request.find("\r\n\r\n")) != std::string::npos) {
          size_t at = request.find("Content-Length:");
          if (at == std::string::npos) at = request.find("content-length:");
          body_needed = at == std::string::npos ? 0 : std::stoul(request.substr(at + 15));
        }
        if (header_end != std::string::npos && request.size() >= header_end + 4 + body_needed) break;
      }
      ++requests_;
      std::string body = R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"fixed answer","code":0})";
      std::string response = "HTTP/1.1 " + status_line_ + "\r\nContent-Type: application/json\r\n" + extra_headers_ +
                             "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      ssize_t ignored = write(fd, response.data(), response.size());
      (void)ignored;
      close(fd);
    }
  }

  std::string status_line_;
  std::string extra_headers_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::unique_ptr<RestKubeClient> ClientFor(const std::string& server) {
  KubeConfig config;
  config.server = server;
  config.token = "t";
  config.source = "test";
  KubeResult<std::unique_ptr<RestKubeClient>> created = RestKubeClient::Create(config, FastRetries());
  EXPECT_TRUE(created.ok()) << created.error.message;
  return created.ok() ? std::move(*created.value) : nullptr;
}

const nlohmann::json kConfigMap = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}};

TEST(RestKubeClientCreate, RejectsBadServerAndTlsMaterial) {
  KubeConfig config;
  config.server = "127.0.0.1:6443";
  config.source = "kubeconfig /k";
  KubeResult<std::unique_ptr<RestKubeClient>> no_scheme = RestKubeClient::Create(config);
  ASSERT_FALSE(no_scheme.ok());
  EXPECT_THAT(no_scheme.error.message, HasSubstr("kubeconfig /k: the server \"127.0.0.1:6443\" is not an http(s):// URL"));

  config.server = "https://127.0.0.1:6443";
  config.ca_pem = "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
  KubeResult<std::unique_ptr<RestKubeClient>> bad_ca = RestKubeClient::Create(config);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_THAT(bad_ca.error.message, HasSubstr("kubeconfig /k: the certificate authority is not a valid PEM certificate"));
}

TEST(RestKubeClientCreate, RejectsAKeyThatDoesNotBelongToTheCertificate) {
  testing::TempDir dir;
  for (const char* name : {"a", "b"}) {
    testing::CommandResult made = testing::RunCommand(
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
         std::string("/CN=") + name, "-days", "1", "-keyout", dir.Path(std::string(name) + ".key"), "-out",
         dir.Path(std::string(name) + ".crt")});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  KubeConfig config;
  config.server = "https://127.0.0.1:6443";
  config.source = "kubeconfig /k";
  config.ca_pem = testing::ReadFile(dir.Path("a.crt"));
  config.client_cert_pem = testing::ReadFile(dir.Path("a.crt"));
  config.client_key_pem = testing::ReadFile(dir.Path("a.key"));
  KubeResult<std::unique_ptr<RestKubeClient>> matching = RestKubeClient::Create(config);
  EXPECT_TRUE(matching.ok()) << matching.error.message;
  config.client_key_pem = testing::ReadFile(dir.Path("b.key"));
  KubeResult<std::unique_ptr<RestKubeClient>> mismatched = RestKubeClient::Create(config);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_THAT(mismatched.error.message, HasSubstr("the client key does not belong to the client certificate"));
}

TEST(RestKubeClientRetries, ConnectionRefusedIsRetriedForReadsAndForWrites) {
  // Refused connections never carry the request, so even a create may be retried.
  std::unique_ptr<RestKubeClient> client = ClientFor("http://127.0.0.1:" + std::to_string(UnusedPort()));
  ASSERT_NE(client, nullptr);
  KubeResult<nlohmann::json> got = client->Get(kConfigMaps, "a", "b");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error.http_status, 0);
  EXPECT_THAT(got.error.message, HasSubstr("get v1 configmaps \"b\" in namespace \"a\": no answer from the API server"));
  EXPECT_THAT(got.error.message, HasSubstr("(after 3 attempts)"));
  KubeResult<nlohmann::json> created = client->Create(kConfigMaps, "a", kConfigMap);
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.error.message, HasSubstr("(after 3 attempts)"));
}

TEST(RestKubeClientRetries, ServerErrorsAreRetriedForReadsOnly) {
  FixedResponder responder("503 Service Unavailable");
  std::unique_ptr<RestKubeClient> client = ClientFor("http://127.0.0.1:" + std::to_string(responder.port()));
  ASSERT_NE(client, nullptr);
  KubeResult<ObjectList> listed = client->List(kConfigMaps, ListOptions{"a", "", "", 10});
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error.http_status, 503);
  EXPECT_EQ(responder.requests(), 3);  // max_attempts
  KubeResult<nlohmann::json> created = client->Create(kConfigMaps, "a", kConfigMap);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error.http_status, 503);
  EXPECT_EQ(responder.requests(), 4);  // a write that reached the server may have been applied: no retry
}

TEST(RestKubeClientRetries, TooManyRequestsIsRetriedEvenForWrites) {
  FixedResponder responder("429 Too Many Requests", "Retry-After: 0\r\n");
  std::unique_ptr<RestKubeClient> client = ClientFor("http://127.0.0.1:" + std::to_string(responder.port()));
  ASSERT_NE(client, nullptr);
  KubeResult<nlohmann::json> patched =
      client->Patch(kConfigMaps, "a", "c", PatchType::kMerge, nlohmann::json{{"data", {{"k", "v"}}}});
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.error.http_status, 429);
  EXPECT_EQ(responder.requests(), 3);
}

TEST(RestKubeClientRetries, ClientErrorsAreNotRetried) {
  FixedResponder responder("404 Not Found");
  std::unique_ptr<RestKubeClient> client = ClientFor("http://127.0.0.1:" + std::to_string(responder.port()));
  ASSERT_NE(client, nullptr);
  KubeResult<nlohmann::json> got = client->Get(kConfigMaps, "a", "b");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.error.NotFound());
  EXPECT_EQ(responder.requests(), 1);
}

TEST(RestKubeClientCalls, ObjectCallsNeedANameAndANamespace) {
  std::unique_ptr<RestKubeClient> client = ClientFor("http://127.0.0.1:" + std::to_string(UnusedPort()));
  ASSERT_NE(client, nullptr);
  KubeResult<nlohmann::json> no_namespace = client->Update(kConfigMaps, "", kConfigMap);
  ASSERT_FALSE(no_namespace.ok());
  EXPECT_THAT(no_namespace.error.message, HasSubstr("a namespace is needed"));
  KubeResult<nlohmann::json> no_name = client->UpdateStatus(kConfigMaps, "a", nlohmann::json::object());
  ASSERT_FALSE(no_name.ok());
  EXPECT_THAT(no_name.error.message, HasSubstr("the object has no name"));
}

}  // namespace
}  // namespace cmesh::kube
