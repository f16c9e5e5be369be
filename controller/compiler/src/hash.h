// A small, fast 64-bit hash used for content versions and cache keys. Not cryptographic: it only
// has to tell changed content from unchanged content with a negligible chance of collision.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

namespace cmesh::compiler {

class Hasher {
 public:
  Hasher& Add(std::string_view bytes);
  Hasher& Add(uint64_t value);
  uint64_t Digest() const;

 private:
  uint64_t state_ = 0x9e3779b97f4a7c15ull;
  uint64_t length_ = 0;
};

// 16 lowercase hex digits.
std::string HexDigest(uint64_t value);

// Hash of the message's deterministic serialisation (map entries sorted, so equal messages
// always give equal bytes), streamed through a fixed buffer.
uint64_t HashMessage(const google::protobuf::Message& message);

}  // namespace cmesh::compiler
