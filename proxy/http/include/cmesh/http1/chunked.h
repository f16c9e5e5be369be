// Incremental decoder of the chunked transfer coding (RFC 9112 section 7.1): chunk sizes in hex
// with optional extensions (ignored), data, CRLF after each chunk, a last chunk of size 0 and an
// optional trailer section, all with strict CRLF. Data spans are views into the input, so bodies
// stream through without being buffered whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cmesh::http1 {

class ChunkedDecoder {
 public:
  enum class State { kSize, kSizeLf, kExtension, kData, kDataCr, kDataLf, kTrailerLineStart, kTrailerLine,
                     kTrailerLf, kFinalLf, kDone, kError };

  // Limits on what is not body data: a chunk-size line with its extensions, and the trailers.
  explicit ChunkedDecoder(std::size_t max_line = 4096, std::size_t max_trailer_bytes = 16 * 1024)
      : max_line_(max_line), max_trailer_bytes_(max_trailer_bytes) {}

  // Consumes bytes of `input` and appends the body data found to `data` (views into `input`).
  // Returns how many bytes were consumed: all of them unless the body ended (done()), in which
  // case the rest belongs to the next message, or an error occurred.
  std::size_t Feed(std::string_view input, std::vector<std::string_view>* data);

  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kError; }
  const std::string& error() const { return error_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  void Fail(std::string reason);

  std::size_t max_line_;
  std::size_t max_trailer_bytes_;
  State state_ = State::kSize;
  std::uint64_t remaining_ = 0;  // of the current chunk's data
  std::uint64_t size_ = 0;       // being read
  std::size_t size_digits_ = 0;
  std::size_t line_bytes_ = 0;
  std::size_t trailer_bytes_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::string error_;
};

}  // namespace cmesh::http1
