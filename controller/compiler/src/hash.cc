#include "hash.h"

#include <cstring>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream.h>

namespace cmesh::compiler {
namespace {

constexpr uint64_t kMul1 = 0x87c37b91114253d5ull;
constexpr uint64_t kMul2 = 0x4cf5ad432745937full;

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// MurmurHash3's finaliser: every input bit affects every output bit.
uint64_t Mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

uint64_t Step(uint64_t state, uint64_t word) {
  word *= kMul1;
  word = Rotl(word, 31);
  word *= kMul2;
  state ^= word;
  state = Rotl(state, 27) * 5 + 0x52dce729;
  return state;
}

}  // namespace

Hasher& Hasher::Add(std::string_view bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    state_ = Step(state_, word);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  // The tail carries its length so "a" and "a\0" differ.
  state_ = Step(state_, tail ^ (static_cast<uint64_t>(n) << 56));
  length_ += bytes.size();
  return *this;
}

Hasher& Hasher::Add(uint64_t value) {
  state_ = Step(state_, value);
  length_ += 8;
  return *this;
}

uint64_t Hasher::Digest() const { return Mix(state_ ^ length_); }

std::string HexDigest(uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[value & 0xf];
    value >>= 4;
  }
  return out;
}

namespace {

// Feeds serialised bytes to a Hasher through one fixed buffer, so hashing a large message never
// allocates (a 500 KB route config would otherwise grow a string many times). Chunks are always
// full buffers except the last, so equal bytes hash equally.
class HashingStream : public google::protobuf::io::ZeroCopyOutputStream {
 public:
  bool Next(void** data, int* size) override {
    if (used_ == sizeof(buffer_)) Flush();
    *data = buffer_ + used_;
    *size = static_cast<int>(sizeof(buffer_) - used_);
    total_ += sizeof(buffer_) - used_;
    used_ = sizeof(buffer_);
    return true;
  }
  void BackUp(int count) override {
    used_ -= static_cast<size_t>(count);
    total_ -= static_cast<size_t>(count);
  }
  int64_t ByteCount() const override { return static_cast<int64_t>(total_); }
  uint64_t Finish() {
    Flush();
    return hasher_.Digest();
  }

 private:
  void Flush() {
    if (used_ > 0) hasher_.Add(std::string_view(buffer_, used_));
    used_ = 0;
  }
  char buffer_[16384];
  size_t used_ = 0;
  size_t total_ = 0;
  Hasher hasher_;
};

}  // namespace

uint64_t HashMessage(const google::protobuf::Message& message) {
  HashingStream stream;
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return stream.Finish();
}

}  // namespace cmesh::compiler
