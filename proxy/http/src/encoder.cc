#include "cmesh/http1/encoder.h"

#include <array>
#include <cstdio>

namespace cmesh::http1 {
namespace {

void AppendHeaders(std::string* out, const std::vector<OwnedHeader>& headers) {
  for (const OwnedHeader& h : headers) {
    out->append(h.name);
    out->append(": ");
    out->append(h.value);
    out->append("\r\n");
  }
}

void AppendFraming(std::string* out, BodyFraming body, std::uint64_t content_length) {
  if (body == BodyFraming::kContentLength) {
    out->append("Content-Length: ");
    out->append(std::to_string(content_length));
    out->append("\r\n");
  } else if (body == BodyFraming::kChunked) {
    out->append("Transfer-Encoding: chunked\r\n");
  }
}

}  // namespace

bool IsHopByHop(const MessageHead& head, std::string_view name) {
  static constexpr std::array<std::string_view, 8> kAlways = {
      "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "content-length", "trailer"};
  for (std::string_view h : kAlways) {
    if (EqualsIgnoreCase(h, name)) return true;
  }
  // Headers the Connection header names are hop-by-hop too ("Connection: x-private").
  return head.ConnectionHas(name);
}

void AppendRequestHead(std::string* out, std::string_view method, std::string_view target,
                       const std::vector<OwnedHeader>& headers, BodyFraming body, std::uint64_t content_length) {
  out->append(method);
  out->push_back(' ');
  out->append(target);
  out->append(" HTTP/1.1\r\n");
  AppendHeaders(out, headers);
  AppendFraming(out, body, content_length);
  out->append("\r\n");
}

void AppendResponseHead(std::string* out, int status, std::string_view reason, const std::vector<OwnedHeader>& headers,
                        BodyFraming body, std::uint64_t content_length, bool keep_alive) {
  out->append("HTTP/1.1 ");
  out->append(std::to_string(status));
  out->push_back(' ');
  out->append(reason.empty() ? ReasonPhrase(status) : reason);
  out->append("\r\n");
  AppendHeaders(out, headers);
  AppendFraming(out, body, content_length);
  if (!keep_alive || body == BodyFraming::kUntilClose) out->append("Connection: close\r\n");
  out->append("\r\n");
}

void AppendChunk(std::string* out, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out->append(size, static_cast<std::size_t>(n));
  out->append(data);
  out->append("\r\n");
}

void AppendLastChunk(std::string* out) { out->append("0\r\n\r\n"); }

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

}  // namespace cmesh::http1
