// A minimal HTTP/1.1 server for the control plane's and the proxy's admin, debug and metrics
// ports: one thread, one request per connection (Connection: close), GET and HEAD, and POST
// without a body when the server allows it (Envoy's admin actions such as /quitquitquit).
// Enough for curl, Prometheus, kubelet probes and tests; a malformed request gets 400 and the
// loop goes on. Never on a request path of the mesh.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

namespace cmesh::admin_http {

struct HttpRequest {
  std::string method;
  std::string path;                           // without the query
  std::map<std::string, std::string> query;   // percent-decoded
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Splits and decodes a request line "GET /p?a=b HTTP/1.1"; nullopt when malformed.
std::optional<HttpRequest> ParseRequestLine(std::string_view line);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // `allow_post`: POST requests (without a body) reach the handler too; else they get 405.
  explicit HttpServer(Handler handler, bool allow_post = false)
      : handler_(std::move(handler)), allow_post_(allow_post) {}
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds (port 0 picks a free one) and starts the thread. False (with *error) when it cannot bind.
  bool Start(const std::string& address, int port, std::string* error);
  int port() const { return port_; }
  void Stop();

 private:
  void Run();
  void Serve(int fd);

  Handler handler_;
  bool allow_post_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cmesh::admin_http
