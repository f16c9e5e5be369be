// cpprestsdk's http_listener over HTTPS. Its ssl_context_callback fills the Boost.Asio SSL
// context of each accepted connection, so the certificate it reads (under a mutex: this is the
// control plane's admission path, not the proxy's) can change while the listener runs.
#include <openssl/ssl.h>

#include <cpprest/http_listener.h>

#include <mutex>

#include "cmesh/webhook/https_listener.h"
#include "cmesh/webhook/tls_server_context.h"

namespace cmesh::webhook {
namespace {

namespace http = web::http;

class CpprestHttpsListener final : public HttpsListener {
 public:
  CpprestHttpsListener(const ServingCertificate& certificate, Handler handler)
      : certificate_(certificate), handler_(std::move(handler)) {}
  ~CpprestHttpsListener() override { Stop(); }

  bool Open(const std::string& address, int port, std::string* error) {
    // Checked once here so a bad pair fails at start rather than at every handshake.
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> probe(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!probe || !ConfigureServerTls(probe.get(), certificate_, error)) return false;
    web::http::experimental::listener::http_listener_config config;
    config.set_ssl_context_callback([this](boost::asio::ssl::context& ctx) {
      ServingCertificate current;
      {
        std::lock_guard lock(mutex_);
        current = certificate_;
      }
      std::string why;
      ConfigureServerTls(ctx.native_handle(), current, &why);  // loaded once above; a failure fails the handshake
    });
    const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
    try {
      listener_ = std::make_unique<web::http::experimental::listener::http_listener>(
          web::uri(utility::conversions::to_string_t("https://" + host + ":" + std::to_string(port))), config);
      listener_->support([this](http::http_request request) { Serve(std::move(request)); });
      listener_->open().wait();
    } catch (const std::exception& e) {
      *error = "listen on " + host + ":" + std::to_string(port) + ": " + e.what();
      listener_.reset();
      return false;
    }
    return true;
  }

  void SetCertificate(const ServingCertificate& certificate) override {
    std::lock_guard lock(mutex_);
    certificate_ = certificate;
  }

  void Stop() override {
    if (!listener_) return;
    try {
      listener_->close().wait();
    } catch (const std::exception&) {
      // closing a listener whose accept loop already failed: nothing left to release
    }
    listener_.reset();
  }

 private:
  void Serve(http::http_request request) {
    const std::string method = request.method();
    const std::string path = request.relative_uri().path();
    request.extract_string(true)
        .then([this, request, method, path](pplx::task<std::string> body_task) {
          HttpAnswer answer;
          try {
            answer = handler_(method, path, body_task.get());
          } catch (const std::exception& e) {
            answer = {400, "text/plain", std::string("cannot read the request: ") + e.what()};
          }
          http::http_response response(static_cast<http::status_code>(answer.status));
          response.set_body(answer.body, answer.content_type);
          return request.reply(response);
        })
        .then([](pplx::task<void> sent) {
          try {
            sent.get();
          } catch (const std::exception&) {
            // the client went away before the answer: nothing to do
          }
        });
  }

  std::mutex mutex_;
  ServingCertificate certificate_;
  Handler handler_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
};

}  // namespace

std::unique_ptr<HttpsListener> StartHttpsListener(const std::string& address, int port,
                                                  const ServingCertificate& certificate,
                                                  HttpsListener::Handler handler, std::string* error) {
  auto listener = std::make_unique<CpprestHttpsListener>(certificate, std::move(handler));
  if (!listener->Open(address, port, error)) return nullptr;
  return listener;
}

}  // namespace cmesh::webhook
