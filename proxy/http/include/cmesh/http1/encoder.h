// Writing HTTP/1.1 messages: heads from parts, and the chunked framing of streamed bodies. The
// proxy re-frames every body it forwards (Content-Length kept, else chunked), so what the
// upstream reads is never ambiguous whatever the client sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/http1/message.h"

namespace cmesh::http1 {

// Hop-by-hop headers a proxy must not forward (RFC 9110 section 7.6.1), plus the framing
// headers it writes itself: Connection and the headers it names, Keep-Alive, Proxy-Connection,
// TE, Transfer-Encoding, Upgrade, Content-Length.
bool IsHopByHop(const MessageHead& head, std::string_view name);

struct OwnedHeader {
  std::string name;
  std::string value;
};

// "METHOD TARGET HTTP/1.1\r\n" + headers + framing + "\r\n". `body` decides the framing header:
// kContentLength writes Content-Length: `content_length`, kChunked writes Transfer-Encoding:
// chunked, kNone writes nothing.
void AppendRequestHead(std::string* out, std::string_view method, std::string_view target,
                       const std::vector<OwnedHeader>& headers, BodyFraming body, std::uint64_t content_length);

// "HTTP/1.1 STATUS REASON\r\n" + headers + framing + "\r\n" (kUntilClose writes no framing and
// a "Connection: close").
void AppendResponseHead(std::string* out, int status, std::string_view reason, const std::vector<OwnedHeader>& headers,
                        BodyFraming body, std::uint64_t content_length, bool keep_alive);

// One chunk ("1a\r\n" data "\r\n"); nothing for empty data (an empty chunk would end the body).
void AppendChunk(std::string* out, std::string_view data);
// The last chunk and an empty trailer section.
void AppendLastChunk(std::string* out);

// The reason phrase for a status (empty for unknown codes).
std::string_view ReasonPhrase(int status);

}  // namespace cmesh::http1
