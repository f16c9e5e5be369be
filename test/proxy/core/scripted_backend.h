// A small HTTP/1.1 upstream for the resilience tests, on its own thread: it records every
// request it gets (method, path, Host, body) and answers with the status the test sets now
// (200 by default, 503 to fail), not at all (mute), or only in part (partial). Keep-alive, Content-Length bodies only.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cmesh::testing {

class ScriptedBackend {
 public:
  struct Seen {
    std::string method, path, host, body;
  };

  // Listens on ip:0; `name` comes back in an x-backend header.
  ScriptedBackend(std::string ip, std::string name);
  ~ScriptedBackend();
  ScriptedBackend(const ScriptedBackend&) = delete;
  ScriptedBackend& operator=(const ScriptedBackend&) = delete;

  int port() const { return port_; }
  const std::string& ip() const { return ip_; }
  void SetStatus(int status) { status_ = status; }
  void SetMute(bool mute) { mute_ = mute; }
  // Answers with a head announcing more body than it sends, then stalls (a stuck response).
  void SetPartial(bool partial) { partial_ = partial; }
  std::vector<Seen> Requests();
  std::size_t Count();
  // Closes the listener and every connection: the backend is gone (connects are refused).
  void Kill();

 private:
  void Run();
  void Serve(int fd, std::string& buffer);

  std::string ip_;
  std::string name_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> status_{200};
  std::atomic<bool> mute_{false};
  std::atomic<bool> partial_{false};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

}  // namespace cmesh::testing
