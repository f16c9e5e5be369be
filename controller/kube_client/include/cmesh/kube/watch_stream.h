// The body of a watch: one JSON event per line, {"type": "ADDED", "object": {...}}, arriving in
// chunks that need not end on a line boundary.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube {

// Collects bytes and hands out complete lines.
class WatchLineBuffer {
 public:
  void Append(const char* data, std::size_t size) { pending_.append(data, size); }
  // Moves the next complete line (without its '\n') into `line`; false when none is complete.
  bool NextLine(std::string* line);
  // Bytes of an unfinished line: non-blank at the end of the body means it was cut off.
  bool HasPartialLine() const;

 private:
  std::string pending_;
  std::size_t start_ = 0;  // consumed prefix of pending_, dropped when it grows large
};

struct DecodedWatchLine {
  enum class Kind { kEvent, kError, kBlank, kInvalid };
  Kind kind = Kind::kInvalid;
  WatchEvent event;        // kEvent
  nlohmann::json status;   // kError: the Status object
  std::string problem;     // kInvalid: why
};

DecodedWatchLine DecodeWatchLine(std::string_view line);

}  // namespace cmesh::kube
