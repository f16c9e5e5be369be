// The webhook's HTTPS listener, behind a small interface (the implementation is cpprestsdk's
// http_listener; nothing else in cmesh sees it): TLS 1.2+ with the webhook's cipher list, the
// serving certificate replaceable while running (new connections get the new one), and every
// request handed to one function. Control-plane traffic only: the apiserver calls it per admission.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cmesh/webhook/certificates.h"
#include "cmesh/webhook/webhook_http.h"

namespace cmesh::webhook {

class HttpsListener {
 public:
  using Handler = std::function<HttpAnswer(const std::string& method, const std::string& path, const std::string& body)>;
  virtual ~HttpsListener() = default;
  // Connections accepted from now on present `certificate` (a renewal needs no restart).
  virtual void SetCertificate(const ServingCertificate& certificate) = 0;
  virtual void Stop() = 0;
};

// Listens on address:port (a fixed port: cpprestsdk cannot report a picked one). nullptr and
// *error when the certificate does not load or the port cannot be bound.
std::unique_ptr<HttpsListener> StartHttpsListener(const std::string& address, int port,
                                                  const ServingCertificate& certificate,
                                                  HttpsListener::Handler handler, std::string* error);

}  // namespace cmesh::webhook
