// cmesh-pilot's admission webhooks over real HTTPS: curl (the apiserver's stand-in) posts
// AdmissionReviews to /inject and /validate, verifying the serving certificate against the CA the
// test mounted; the certificate is replaced while the pilot runs; TLS below 1.2 is refused.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cmesh/webhook/admission_review.h"
#include "cmesh/webhook/certificates.h"
#include "loopback_client.h"
#include "pilot_process.h"
#include "temp_dir.h"

namespace cmesh::pilot {
namespace {

using ::testing::HasSubstr;
using cmesh::testing::PilotProcess;
constexpr auto kDeadline = std::chrono::seconds(20);

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

class WebhookPilotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::filesystem::create_directories(dir_.Path("config"));
    std::filesystem::create_directories(dir_.Path("certs"));
    // The namespace the pods are created in asks for injection.
    WriteFile(dir_.Path("config/namespaces.yaml"),
              "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio-injection: enabled}\n---\n"
              "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: plain\n");
    MountCertificate();
    port_ = cmesh::testing::FreeTcpPort();
    pilot_ = std::make_unique<PilotProcess>(std::vector<std::string>{
        "--config-dir", dir_.Path("config"), "--xds-port", "0", "--debug-port", "0", "--monitoring-port", "0",
        "--listen-address", "127.0.0.1", "--webhook-port", std::to_string(port_), "--webhook-cert-dir",
        dir_.Path("certs"), "--webhook-refresh-interval", "200ms"});
    ASSERT_TRUE(pilot_->started());
    ASSERT_TRUE(pilot_->WaitForPort("debug", kDeadline)) << pilot_->Log();
    for (auto deadline = std::chrono::steady_clock::now() + kDeadline;
         pilot_->Log().find("webhook listening") == std::string::npos && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_THAT(pilot_->Log(), HasSubstr("webhook listening on 127.0.0.1:" + std::to_string(port_) + " (mounted certificate)"));
  }

  // A CA and a serving certificate for the Service name, as a mounted TLS Secret.
  void MountCertificate(const std::string& organization = "cmesh") {
    webhook::CertificateOptions options;
    options.organization = organization;
    std::string error;
    auto cert = webhook::CreateSelfSignedServing(options, webhook::Clock::now(), &error);
    ASSERT_TRUE(cert) << error;
    // Written aside, then renamed, as the kubelet swaps a Secret's files.
    WriteFile(dir_.Path("certs/tls.crt.new"), cert->serving.certificate_pem);
    WriteFile(dir_.Path("certs/tls.key.new"), cert->serving.private_key_pem);
    WriteFile(dir_.Path("certs/ca.crt.new"), cert->ca_bundle_pem);
    for (const char* f : {"tls.crt", "tls.key", "ca.crt"}) {
      std::filesystem::rename(dir_.Path(std::string("certs/") + f + ".new"), dir_.Path(std::string("certs/") + f));
    }
    WriteFile(dir_.Path("ca-" + organization + ".pem"), cert->ca_bundle_pem);
  }

  // curl as the apiserver: the Service's name resolved to the pilot, the CA verified.
  CommandResult Post(const std::string& path, const nlohmann::json& review, const std::string& ca_file,
                     const std::string& extra = "") {
    WriteFile(dir_.Path("review.json"), review.dump());
    return RunShell("curl -sS --max-time 10 " + extra + " --cacert " + Quote(dir_.Path(ca_file)) +
               " --resolve cmesh-pilot.istio-system.svc:" + std::to_string(port_) + ":127.0.0.1" +
               " -H 'Content-Type: application/json' --data-binary @" + Quote(dir_.Path("review.json")) +
               " https://cmesh-pilot.istio-system.svc:" + std::to_string(port_) + path);
  }

  static nlohmann::json PodReview(const std::string& ns) {
    auto review = nlohmann::json::parse(R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
      "request": {"uid": "0b6f4d1e-1111-4a5b-9c3d-000000000001",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "operation": "CREATE",
        "object": {"apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "reviews-v1-1", "labels": {"app": "reviews", "version": "v1"}},
          "spec": {"containers": [{"name": "reviews", "image": "reviews:v1"}]}}}})");
    review["request"]["namespace"] = ns;
    return review;
  }

  cmesh::testing::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<PilotProcess> pilot_;
};

TEST_F(WebhookPilotTest, InjectAnswersWithAPatchForAPodInALabelledNamespace) {
  auto result = Post("/inject", PodReview("shop"), "ca-cmesh.pem");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  auto review = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(review.is_object()) << result.out;
  const auto& response = review["response"];
  EXPECT_EQ(response["uid"], "0b6f4d1e-1111-4a5b-9c3d-000000000001");
  EXPECT_EQ(response["allowed"], true);
  EXPECT_EQ(response["patchType"], "JSONPatch");
  const std::string patch = response["patch"].get<std::string>();
  // The patch names the two containers it adds (base64 of JSON: decoded by openssl).
  WriteFile(dir_.Path("patch.b64"), patch);
  auto decoded = RunShell("openssl base64 -d -A -in " + Quote(dir_.Path("patch.b64")));
  ASSERT_EQ(decoded.exit_code, 0);
  EXPECT_THAT(decoded.out, HasSubstr("\"name\":\"cmesh-init\""));
  EXPECT_THAT(decoded.out, HasSubstr("\"name\":\"cmesh-proxy\""));
  // The pod had no annotations: the patch adds the whole map, with the status annotation in it.
  EXPECT_THAT(decoded.out, HasSubstr("{\"op\":\"add\",\"path\":\"/metadata/annotations\""));
  EXPECT_THAT(decoded.out, HasSubstr("\"sidecar.istio.io/status\":"));
}

TEST_F(WebhookPilotTest, APodInANamespaceWithoutTheLabelIsAdmittedUntouched) {
  auto result = Post("/inject", PodReview("plain"), "ca-cmesh.pem");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  auto review = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(review.is_object()) << result.out;
  EXPECT_EQ(review["response"]["allowed"], true);
  EXPECT_FALSE(review["response"].contains("patch"));
}

TEST_F(WebhookPilotTest, ValidateDeniesAnInvalidVirtualServiceNamingTheField) {
  auto review = nlohmann::json::parse(R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {"uid": "0b6f4d1e-1111-4a5b-9c3d-000000000002",
      "kind": {"group": "networking.istio.io", "version": "v1", "kind": "VirtualService"},
      "resource": {"group": "networking.istio.io", "version": "v1", "resource": "virtualservices"},
      "namespace": "shop", "operation": "CREATE",
      "object": {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "shop"},
        "spec": {"hosts": ["reviews"],
          "http": [{"match": [{"uri": {"regex": "(unclosed"}}], "route": [{"destination": {"host": "reviews"}}]}]}}}})");
  auto result = Post("/validate", review, "ca-cmesh.pem");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  auto answer = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << result.out;
  EXPECT_EQ(answer["response"]["allowed"], false);
  EXPECT_THAT(answer["response"]["status"]["message"].get<std::string>(), HasSubstr("http[0].match[0].uri"));
}

TEST_F(WebhookPilotTest, ARenewedMountedCertificateIsServedWithoutARestart) {
  ASSERT_EQ(Post("/inject", PodReview("plain"), "ca-cmesh.pem").exit_code, 0);
  // A new CA and pair: the old CA no longer verifies the server, the new one does.
  MountCertificate("renewed");
  bool switched = false;
  for (auto deadline = std::chrono::steady_clock::now() + kDeadline; std::chrono::steady_clock::now() < deadline;) {
    if (Post("/inject", PodReview("plain"), "ca-renewed.pem").exit_code == 0) {
      switched = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(switched) << pilot_->Log();
  EXPECT_NE(Post("/inject", PodReview("plain"), "ca-cmesh.pem").exit_code, 0);  // verification fails now
  EXPECT_THAT(pilot_->Log(), HasSubstr("webhook certificate renewed"));
}

TEST_F(WebhookPilotTest, TlsBelow1_2IsRefused) {
  EXPECT_EQ(Post("/inject", PodReview("plain"), "ca-cmesh.pem", "--tlsv1.2 --tls-max 1.2").exit_code, 0);
  const auto old = Post("/inject", PodReview("plain"), "ca-cmesh.pem", "--tlsv1.0 --tls-max 1.1");
  EXPECT_NE(old.exit_code, 0) << old.out;
}

TEST_F(WebhookPilotTest, AMalformedReviewGetsA400NamingTheProblem) {
  WriteFile(dir_.Path("bad.json"), "{\"kind\": \"AdmissionReview\"");
  auto result = RunShell("curl -sS --max-time 10 -o /dev/null -w '%{http_code}' --cacert " + Quote(dir_.Path("ca-cmesh.pem")) +
                    " --resolve cmesh-pilot.istio-system.svc:" + std::to_string(port_) +
                    ":127.0.0.1 --data-binary @" + Quote(dir_.Path("bad.json")) +
                    " https://cmesh-pilot.istio-system.svc:" + std::to_string(port_) + "/inject");
  EXPECT_EQ(result.out, "400");
  // And the pilot still serves.
  EXPECT_EQ(Post("/inject", PodReview("plain"), "ca-cmesh.pem").exit_code, 0);
}

}  // namespace
}  // namespace cmesh::pilot
