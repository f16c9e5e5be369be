#include "response_reader.h"

#include <charconv>
#include <string_view>

namespace cmesh::bench {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ResponseReader::Result ResponseReader::ParseHead(const std::string& in) {
  const std::size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return in.size() > 64 * 1024 ? Result::kError : Result::kNeedMore;
  const std::string_view head(in.data(), end + 2);
  // "HTTP/1.1 200 OK"
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") return Result::kError;
  const bool http10 = head[7] == '0';
  auto [ptr, ec] = std::from_chars(head.data() + 9, head.data() + 12, status_);
  if (ec != std::errc() || ptr != head.data() + 12) return Result::kError;
  keep_alive_ = !http10;
  bool has_length = false;
  std::size_t line = head.find("\r\n") + 2;
  while (line < head.size()) {
    const std::size_t eol = head.find("\r\n", line);
    const std::string_view field = head.substr(line, eol - line);
    line = eol + 2;
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) return Result::kError;
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = Trim(field.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-length")) {
      auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), content_length_);
      if (e != std::errc() || p != value.data() + value.size()) return Result::kError;
      has_length = true;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      chunked_ = ContainsIgnoreCase(value, "chunked");
    } else if (EqualsIgnoreCase(name, "connection")) {
      if (ContainsIgnoreCase(value, "close")) keep_alive_ = false;
      if (ContainsIgnoreCase(value, "keep-alive")) keep_alive_ = true;
    }
  }
  const bool no_body = status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200);
  if (no_body) {
    chunked_ = false;
    content_length_ = 0;
  } else if (!chunked_ && !has_length) {
    return Result::kError;  // a body delimited by the close: no peer here answers that way
  }
  head_length_ = end + 4;
  chunk_scan_ = head_length_;
  return Result::kComplete;
}

ResponseReader::Result ResponseReader::ParseChunks(const std::string& in, std::size_t* length) {
  for (;;) {
    const std::size_t eol = in.find("\r\n", chunk_scan_);
    if (eol == std::string::npos) return Result::kNeedMore;
    std::string_view size_text(in.data() + chunk_scan_, eol - chunk_scan_);
    if (const std::size_t semi = size_text.find(';'); semi != std::string_view::npos) size_text = size_text.substr(0, semi);
    size_text = Trim(size_text);
    std::size_t size = 0;
    auto [p, e] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (e != std::errc() || p != size_text.data() + size_text.size()) return Result::kError;
    const std::size_t data = eol + 2;
    if (size == 0) {
      // The last chunk, then trailers (usually none) and an empty line.
      if (in.size() < data + 2) return Result::kNeedMore;
      if (in.compare(data, 2, "\r\n") == 0) {
        *length = data + 2;
        return Result::kComplete;
      }
      const std::size_t end = in.find("\r\n\r\n", data);
      if (end == std::string::npos) return Result::kNeedMore;
      *length = end + 4;
      return Result::kComplete;
    }
    if (in.size() < data + size + 2) return Result::kNeedMore;
    chunk_scan_ = data + size + 2;
  }
}

ResponseReader::Result ResponseReader::Parse(const std::string& in, std::size_t* length) {
  if (head_length_ == 0) {
    const Result head = ParseHead(in);
    if (head != Result::kComplete) return head;
  }
  if (chunked_) return ParseChunks(in, length);
  if (in.size() < head_length_ + content_length_) return Result::kNeedMore;
  *length = head_length_ + content_length_;
  return Result::kComplete;
}

}  // namespace cmesh::bench
