#include "cmesh/http1/parser.h"

#include <charconv>

namespace cmesh::http1 {
namespace {

bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

// request-target: visible ASCII only (no whitespace, no control characters, no obs-text).
bool IsTarget(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

// field-value characters: VCHAR, SP, HTAB and obs-text; never NUL, CR, LF or other controls.
bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each element of a comma-separated list, trimmed; empty elements skipped
// (RFC 9110 section 5.6.1 lets recipients ignore them).
template <typename F>
void ForEachListElement(std::string_view list, F f) {
  while (true) {
    const std::size_t comma = list.find(',');
    std::string_view element = TrimOws(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

ParseStatus Fail(ParseError* error, int status, std::string reason) {
  error->status = status;
  error->reason = std::move(reason);
  return ParseStatus::kError;
}

// "HTTP/1.x": the minor version, or -1 (not HTTP), or -2 (an HTTP major other than 1).
int ParseVersion(std::string_view s) {
  if (s.size() != 8 || s.substr(0, 5) != "HTTP/" || s[6] != '.' || s[5] < '0' || s[5] > '9' || s[7] < '0' ||
      s[7] > '9') {
    return -1;
  }
  if (s[5] != '1') return -2;
  return s[7] - '0';
}

// The lines of a head, with CRLF enforced. Next() gives the next line without its CRLF.
class LineReader {
 public:
  enum class Result { kLine, kIncomplete, kError };
  LineReader(std::string_view data, std::size_t start) : data_(data), pos_(start) {}

  Result Next(std::string_view* line, std::string* why) {
    const std::size_t lf = data_.find('\n', pos_);
    if (lf == std::string_view::npos) {
      // A CR anywhere but last in what is there cannot be followed by its LF any more.
      const std::size_t cr = data_.find('\r', pos_);
      if (cr != std::string_view::npos && cr + 1 < data_.size()) {
        *why = "bare CR in the message head";
        return Result::kError;
      }
      return Result::kIncomplete;
    }
    if (lf == pos_ || data_[lf - 1] != '\r') {
      *why = "bare LF in the message head (lines must end in CRLF)";
      return Result::kError;
    }
    *line = data_.substr(pos_, lf - 1 - pos_);
    if (line->find('\r') != std::string_view::npos) {
      *why = "bare CR in the message head";
      return Result::kError;
    }
    pos_ = lf + 1;
    return Result::kLine;
  }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view data_;
  std::size_t pos_;
};

// Reads the start line and the header fields of a head beginning at `start`. `bad` is the
// status for malformed input (400 for requests, 502 for responses from an upstream).
ParseStatus ReadHead(std::string_view data, std::size_t start, const Limits& limits, int bad, std::string_view* start_line,
                     MessageHead* head, std::size_t* consumed, ParseError* error) {
  LineReader reader(data, start);
  head->headers.clear();
  bool have_start = false;
  while (true) {
    std::string_view line;
    std::string why;
    const auto result = reader.Next(&line, &why);
    const std::size_t seen = (result == LineReader::Result::kLine ? reader.pos() : data.size()) - start;
    if (seen > limits.max_head_bytes) {
      return Fail(error, bad == 400 ? 431 : bad,
                  "message head larger than " + std::to_string(limits.max_head_bytes) + " bytes");
    }
    if (result == LineReader::Result::kIncomplete) return ParseStatus::kIncomplete;
    if (result == LineReader::Result::kError) return Fail(error, bad, std::move(why));
    if (!have_start) {
      *start_line = line;
      have_start = true;
      continue;
    }
    if (line.empty()) break;  // end of the head
    if (line.front() == ' ' || line.front() == '\t') {
      return Fail(error, bad, "obsolete line folding in a header field");
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail(error, bad, "header line without a colon");
    const std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) {
      return Fail(error, bad,
                  name.find_first_of(" \t") != std::string_view::npos
                      ? "whitespace between a header field name and its colon"
                      : "invalid header field name");
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (!IsFieldValue(value)) return Fail(error, bad, "invalid character in the value of header " + std::string(name));
    if (head->headers.size() >= limits.max_headers) {
      return Fail(error, bad == 400 ? 431 : bad, "more than " + std::to_string(limits.max_headers) + " header fields");
    }
    head->headers.push_back({name, value});
  }
  *consumed = reader.pos();
  return ParseStatus::kComplete;
}

// Content-Length and Transfer-Encoding → framing, shared by requests and responses.
struct FramingFields {
  bool has_length = false;
  std::uint64_t length = 0;
  bool has_transfer_encoding = false;
  bool chunked_last = false;      // chunked is the final coding
  int chunked_count = 0;
  std::size_t codings = 0;
};

bool ReadFramingFields(const MessageHead& head, FramingFields* out, std::string* why) {
  for (const Header& h : head.headers) {
    if (EqualsIgnoreCase(h.name, "content-length")) {
      bool ok = true;
      bool any = false;
      ForEachListElement(h.value, [&](std::string_view element) {
        std::uint64_t n = 0;
        auto [ptr, ec] = std::from_chars(element.data(), element.data() + element.size(), n);
        if (ec != std::errc() || ptr != element.data() + element.size() || element.front() == '+' ||
            element.front() == '-' || n > (std::uint64_t{1} << 62)) {
          ok = false;
          return;
        }
        if (out->has_length && n != out->length) ok = false;  // several differing lengths
        out->has_length = true;
        out->length = n;
        any = true;
      });
      if (!ok || !any) {
        *why = "invalid or conflicting Content-Length \"" + std::string(h.value) + "\"";
        return false;
      }
    } else if (EqualsIgnoreCase(h.name, "transfer-encoding")) {
      out->has_transfer_encoding = true;
      ForEachListElement(h.value, [&](std::string_view coding) {
        ++out->codings;
        const bool chunked = EqualsIgnoreCase(coding, "chunked");
        if (chunked) ++out->chunked_count;
        out->chunked_last = chunked;
      });
      if (out->codings == 0) {
        *why = "empty Transfer-Encoding";
        return false;
      }
    }
  }
  if (out->has_transfer_encoding && out->has_length) {
    *why = "both Transfer-Encoding and Content-Length";
    return false;
  }
  return true;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> MessageHead::Find(std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

bool MessageHead::ConnectionHas(std::string_view token) const {
  bool found = false;
  for (const Header& h : headers) {
    if (!EqualsIgnoreCase(h.name, "connection")) continue;
    ForEachListElement(h.value, [&](std::string_view element) { found = found || EqualsIgnoreCase(element, token); });
  }
  return found;
}

ParseStatus ParseRequestHead(std::string_view data, const Limits& limits, RequestHead* head, std::size_t* consumed,
                             ParseError* error) {
  // RFC 9112 section 2.2: empty lines before the request line are ignored.
  std::size_t start = 0;
  while (start + 2 <= data.size() && data[start] == '\r' && data[start + 1] == '\n') start += 2;
  if (start < data.size() && data[start] == '\n') return Fail(error, 400, "bare LF before the request line");

  std::string_view line;
  const ParseStatus read = ReadHead(data, start, limits, 400, &line, head, consumed, error);
  if (read != ParseStatus::kComplete) return read;

  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(error, 400, "malformed request line");
  }
  head->method = line.substr(0, sp1);
  head->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!IsToken(head->method)) return Fail(error, 400, "invalid method");
  if (!IsTarget(head->target)) return Fail(error, 400, "invalid request target");
  const int minor = ParseVersion(line.substr(sp2 + 1));
  if (minor == -1) return Fail(error, 400, "malformed HTTP version");
  if (minor == -2) return Fail(error, 505, "HTTP major version other than 1");
  head->version_minor = minor == 0 ? 0 : 1;

  FramingFields framing;
  std::string why;
  if (!ReadFramingFields(*head, &framing, &why)) return Fail(error, 400, why);
  if (framing.has_transfer_encoding) {
    if (head->version_minor == 0) return Fail(error, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!framing.chunked_last || framing.chunked_count > 1) {
      return Fail(error, 400, "Transfer-Encoding whose final coding is not chunked (once)");
    }
    // Codings under chunked (gzip, chunked) would have to be undone to read the body.
    if (framing.codings > 1) return Fail(error, 501, "transfer codings other than chunked are not implemented");
    head->framing = BodyFraming::kChunked;
  } else if (framing.has_length && framing.length > 0) {
    head->framing = BodyFraming::kContentLength;
    head->content_length = framing.length;
  } else {
    head->framing = BodyFraming::kNone;
    head->content_length = 0;
  }

  int hosts = 0;
  for (const Header& h : head->headers) hosts += EqualsIgnoreCase(h.name, "host") ? 1 : 0;
  if (hosts > 1) return Fail(error, 400, "more than one Host header");
  if (hosts == 0 && head->version_minor == 1) return Fail(error, 400, "HTTP/1.1 request without Host");

  head->keep_alive = head->version_minor == 1 ? !head->ConnectionHas("close") : head->ConnectionHas("keep-alive") &&
                                                                                      !head->ConnectionHas("close");
  head->expect_continue = false;
  if (auto expect = head->Find("expect")) {
    if (!EqualsIgnoreCase(*expect, "100-continue")) return Fail(error, 417, "unsupported expectation");
    head->expect_continue = head->version_minor == 1;  // 1.0 clients do not wait for it
  }
  return ParseStatus::kComplete;
}

ParseStatus ParseResponseHead(std::string_view data, const Limits& limits, std::string_view request_method,
                              ResponseHead* head, std::size_t* consumed, ParseError* error) {
  std::string_view line;
  const ParseStatus read = ReadHead(data, 0, limits, 502, &line, head, consumed, error);
  if (read != ParseStatus::kComplete) return read;

  // status-line = HTTP-version SP 3DIGIT SP [reason]; "HTTP/1.1 200" without the last SP is
  // tolerated, as common servers send it.
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    return Fail(error, 502, "malformed status line");
  }
  const int minor = ParseVersion(line.substr(0, 8));
  if (minor < 0) return Fail(error, 502, "malformed HTTP version in the status line");
  head->version_minor = minor == 0 ? 0 : 1;
  const std::string_view code = line.substr(9, 3);
  int status = 0;
  auto [ptr, ec] = std::from_chars(code.data(), code.data() + 3, status);
  if (ec != std::errc() || ptr != code.data() + 3 || status < 100) return Fail(error, 502, "malformed status code");
  head->status = status;
  head->reason = line.size() > 13 ? line.substr(13) : std::string_view();

  FramingFields framing;
  std::string why;
  if (!ReadFramingFields(*head, &framing, &why)) return Fail(error, 502, why);
  const bool no_body = EqualsIgnoreCase(request_method, "HEAD") || status < 200 || status == 204 || status == 304 ||
                       (EqualsIgnoreCase(request_method, "CONNECT") && status < 300);
  head->content_length = 0;
  if (no_body) {
    head->framing = BodyFraming::kNone;
  } else if (framing.has_transfer_encoding) {
    // A final coding other than chunked: the body runs until the connection closes.
    head->framing = framing.chunked_last && framing.chunked_count == 1 && framing.codings == 1 ? BodyFraming::kChunked
                                                                                               : BodyFraming::kUntilClose;
  } else if (framing.has_length) {
    head->framing = framing.length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
    head->content_length = framing.length;
  } else {
    head->framing = BodyFraming::kUntilClose;
  }
  head->keep_alive = head->framing != BodyFraming::kUntilClose &&
                     (head->version_minor == 1 ? !head->ConnectionHas("close")
                                               : head->ConnectionHas("keep-alive") && !head->ConnectionHas("close"));
  return ParseStatus::kComplete;
}

}  // namespace cmesh::http1
