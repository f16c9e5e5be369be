// One client connection of the demo backend: reads pipelined HTTP/1.x requests (bodies by
// Content-Length or chunked are read and discarded), answers each one, keeps the connection
// alive when the request allows it. Lives on one EventLoop thread; deletes itself when closed.
#pragma once

#include <cstddef>
#include <string>

#include "cmesh/event/event_loop.h"
#include "cmesh/http1/chunked.h"
#include "cmesh/http1/message.h"

namespace cmesh::demo {

struct BackendOptions {
  std::string service = "backend";
  std::string version = "v1";
  // 0: answer with a JSON description of the request (service, version, method, path, headers,
  // and the connection's number);
  // N > 0: answer with N bytes of 'x' (the benchmark's fixed-size responses).
  std::size_t body_bytes = 0;
};

class BackendConnection final : public event::IoWatcher {
 public:
  // Takes ownership of `fd` and registers itself with `loop`.
  static void Start(event::EventLoop& loop, int fd, const BackendOptions& options);
  void OnReady(std::uint32_t ready) override;

 private:
  BackendConnection(event::EventLoop& loop, int fd, const BackendOptions& options);
  ~BackendConnection() override;
  // Handles whatever complete requests the input holds; false when the connection must close.
  bool Process();
  std::string Answer(const http1::RequestHead& head) const;
  void Flush();
  void Close();

  event::EventLoop& loop_;
  int fd_;
  const BackendOptions& options_;
  std::uint64_t id_;  // 1, 2, ... in accept order, per process
  std::string in_;
  std::string out_;
  // The request whose body is being read: its answer is ready, waiting for the body's end.
  bool in_body_ = false;
  http1::BodyFraming body_framing_ = http1::BodyFraming::kNone;
  std::uint64_t body_left_ = 0;
  http1::ChunkedDecoder chunked_;
  std::string pending_answer_;
  bool close_after_write_ = false;
  bool peer_done_ = false;  // the client closed its side
  bool want_write_ = false;
};

}  // namespace cmesh::demo
