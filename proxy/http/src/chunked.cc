#include "cmesh/http1/chunked.h"

#include <algorithm>

namespace cmesh::http1 {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void ChunkedDecoder::Fail(std::string reason) {
  state_ = State::kError;
  error_ = std::move(reason);
}

std::size_t ChunkedDecoder::Feed(std::string_view input, std::vector<std::string_view>* data) {
  std::size_t i = 0;
  while (i < input.size() && state_ != State::kDone && state_ != State::kError) {
    const char c = input[i];
    switch (state_) {
      case State::kSize: {
        const int digit = HexValue(c);
        if (digit >= 0) {
          // 15 hex digits (2^60) is far beyond any body we forward; more is an overflow attempt.
          if (++size_digits_ > 15) { Fail("chunk size too large"); return i; }
          size_ = size_ * 16 + static_cast<std::uint64_t>(digit);
        } else if (size_digits_ == 0) {
          { Fail("invalid chunk size"); return i; }
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExtension;  // chunk extensions (and BWS before them) are ignored
        } else {
          { Fail("invalid chunk size"); return i; }
        }
        if (++line_bytes_ > max_line_) { Fail("chunk size line too long"); return i; }
        ++i;
        break;
      }
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          { Fail("invalid character in a chunk extension"); return i; }
        }
        if (++line_bytes_ > max_line_) { Fail("chunk size line too long"); return i; }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') { Fail("chunk size line not ended by CRLF"); return i; }
        ++i;
        line_bytes_ = 0;
        size_digits_ = 0;
        if (size_ == 0) {
          state_ = State::kTrailerLineStart;
        } else {
          remaining_ = size_;
          size_ = 0;
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - i));
        data->push_back(input.substr(i, n));
        body_bytes_ += n;
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') { Fail("chunk data not followed by CRLF"); return i; }
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') { Fail("chunk data not followed by CRLF"); return i; }
        state_ = State::kSize;
        ++i;
        break;
      case State::kTrailerLineStart:
        if (c == '\r') {
          state_ = State::kFinalLf;
        } else if (c == '\n') {
          { Fail("bare LF in the trailer section"); return i; }
        } else {
          state_ = State::kTrailerLine;
          if (++trailer_bytes_ > max_trailer_bytes_) { Fail("trailer section too large"); return i; }
        }
        ++i;
        break;
      case State::kTrailerLine:
        // Trailer fields are consumed and dropped (nothing downstream relies on them here).
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (c == '\n') {
          { Fail("bare LF in the trailer section"); return i; }
        }
        if (++trailer_bytes_ > max_trailer_bytes_) { Fail("trailer section too large"); return i; }
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') { Fail("trailer line not ended by CRLF"); return i; }
        state_ = State::kTrailerLineStart;
        ++i;
        break;
      case State::kFinalLf:
        if (c != '\n') { Fail("chunked body not ended by CRLF"); return i; }
        state_ = State::kDone;
        ++i;
        break;
      case State::kDone:
      case State::kError:
        break;
    }
  }
  return i;
}

}  // namespace cmesh::http1
