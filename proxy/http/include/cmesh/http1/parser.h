// Strict HTTP/1.x head parsing (RFC 9110/9112), built to refuse what request smuggling relies on:
// - lines end in CRLF only; a bare CR or LF is an error;
// - no whitespace between a field name and its colon, no obsolete line folding;
// - Transfer-Encoding and Content-Length together, a Content-Length that is not digits, several
//   differing Content-Lengths, or chunked not being the last (and only) coding are errors;
// - an HTTP/1.1 request needs exactly one Host.
// Errors carry the status a server answers with (400, 431, 501, 505) and a reason for the log.
// Parsing never allocates per byte and never throws; it resumes from scratch on more input
// (heads are small and bounded by Limits, so rescanning is cheap).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cmesh/http1/message.h"

namespace cmesh::http1 {

enum class ParseStatus { kIncomplete, kComplete, kError };

struct ParseError {
  int status = 400;
  std::string reason;
};

// Parses the request head at the start of `data` (leading empty lines are skipped, as RFC 9112
// allows). kComplete: *head views into `data`, *consumed is the head's length (the body starts
// there). kIncomplete: more bytes are needed (the limit is enforced on what is there). kError:
// *error says why; the connection must be closed after answering.
ParseStatus ParseRequestHead(std::string_view data, const Limits& limits, RequestHead* head, std::size_t* consumed,
                             ParseError* error);

// Parses a response head; `request_method` decides whether a body can follow (HEAD, CONNECT).
ParseStatus ParseResponseHead(std::string_view data, const Limits& limits, std::string_view request_method,
                              ResponseHead* head, std::size_t* consumed, ParseError* error);

}  // namespace cmesh::http1
