// The framing of HTTP/1.1 responses as the fixed-rate load generator needs it: where one response
// ends (Content-Length, chunked, or a body-less status), its status and whether the connection
// stays open. Deliberately independent of proxy/http, so that the benchmark does not judge the
// proxy with the proxy's own codec. Lenient: it only has to read what the peers send.
#ifndef CMESH_BENCH_PROXY_RESPONSE_READER_H_
#define CMESH_BENCH_PROXY_RESPONSE_READER_H_

#include <cstddef>
#include <string>

namespace cmesh::bench {

class ResponseReader {
 public:
  enum class Result { kNeedMore, kComplete, kError };

  // Looks for one complete response at the start of `in`. On kComplete, `*length` is its size in
  // bytes (the caller erases them) and status()/keep_alive() describe it. State carries over
  // between calls while the same response is still incomplete; Reset() after each response.
  Result Parse(const std::string& in, std::size_t* length);
  void Reset() { *this = ResponseReader(); }

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  Result ParseHead(const std::string& in);
  Result ParseChunks(const std::string& in, std::size_t* length);

  std::size_t head_length_ = 0;  // 0 until the head is complete
  int status_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  std::size_t content_length_ = 0;
  std::size_t chunk_scan_ = 0;  // chunked: offset of the next chunk-size line not yet read
};

}  // namespace cmesh::bench

#endif  // CMESH_BENCH_PROXY_RESPONSE_READER_H_
