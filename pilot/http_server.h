// A minimal HTTP/1.1 server for the debug and monitoring ports: one thread, one request per
// connection (Connection: close), GET only. Enough for curl, Prometheus and tests; a malformed
// request gets 400 and the loop goes on.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

namespace cmesh::pilot {

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
  explicit HttpServer(Handler handler) : handler_(std::move(handler)) {}
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
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cmesh::pilot
