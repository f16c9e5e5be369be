// libFuzzer target: the HTTP/1.x head parser and the chunked decoder on arbitrary bytes. The
// first byte picks request or response and the split points of the body, so the decoder is also
// fed in pieces. Invariants checked: nothing is consumed beyond the input, body views lie inside
// the piece they came from, and a complete head is a prefix of the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "cmesh/http1/chunked.h"
#include "cmesh/http1/parser.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void FeedBody(std::string_view body, std::size_t step) {
  cmesh::http1::ChunkedDecoder decoder(256, 1024);
  std::size_t at = 0;
  while (at < body.size() && !decoder.done() && !decoder.failed()) {
    const std::string_view piece = body.substr(at, step);
    std::vector<std::string_view> data;
    const std::size_t used = decoder.Feed(piece, &data);
    Check(used <= piece.size());
    for (std::string_view d : data) Check(d.data() >= piece.data() && d.data() + d.size() <= piece.data() + piece.size());
    if (used < piece.size()) Check(decoder.done() || decoder.failed());
    at += used;
    if (used == 0) break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = bytes[0];
  const std::string_view input(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  cmesh::http1::Limits limits;
  limits.max_head_bytes = 4096;
  limits.max_headers = 32;
  std::size_t consumed = 0;
  cmesh::http1::ParseError error;
  cmesh::http1::BodyFraming framing = cmesh::http1::BodyFraming::kNone;
  cmesh::http1::ParseStatus status;
  if (mode & 1) {
    cmesh::http1::ResponseHead head;
    status = cmesh::http1::ParseResponseHead(input, limits, (mode & 2) ? "HEAD" : "GET", &head, &consumed, &error);
    framing = head.framing;
  } else {
    cmesh::http1::RequestHead head;
    status = cmesh::http1::ParseRequestHead(input, limits, &head, &consumed, &error);
    framing = head.framing;
    if (status == cmesh::http1::ParseStatus::kComplete) {
      Check(!head.method.empty() && head.method.data() >= input.data());
      for (const auto& h : head.headers) Check(h.name.data() + h.name.size() <= input.data() + consumed);
    }
  }
  if (status == cmesh::http1::ParseStatus::kError) Check(error.status >= 400 && error.status < 600);
  if (status != cmesh::http1::ParseStatus::kComplete) return 0;
  Check(consumed <= input.size());
  if (framing == cmesh::http1::BodyFraming::kChunked) FeedBody(input.substr(consumed), 1 + (mode >> 2));
  return 0;
}
