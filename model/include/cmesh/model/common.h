// Small value types shared by every kind of the config model.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::model {

using Labels = std::map<std::string, std::string>;

// A protobuf-style duration ("1.5s", "100ms", "2h"), kept in nanoseconds.
struct Duration {
  int64_t nanos = 0;
  friend bool operator==(const Duration&, const Duration&) = default;
};

// Where a document came from: the file (or "-" for stdin, "<inline>" for text), the line on which
// the document starts (1-based, 0 when unknown), and a hash of its canonical content, which lets
// caches tell changed objects from unchanged ones without comparing them field by field.
struct Origin {
  std::string file;
  int line = 0;
  uint64_t content_hash = 0;
  int spec_line = 0;  // line of `spec:`, for problems found later about a field it lacks; 0 unknown
};

struct ObjectMeta {
  std::string name;
  std::string ns;  // metadata.namespace; the loader fills "default" when absent
  Labels labels;
  Labels annotations;
  std::string resource_version;
};

// Istio's StringMatch: exactly one of exact, prefix or regex. `kAny` is the empty match `{}`, which
// Istio reads as "the header is present".
struct StringMatch {
  enum class Kind { kAny, kExact, kPrefix, kRegex };
  Kind kind = Kind::kAny;
  std::string value;
  friend bool operator==(const StringMatch&, const StringMatch&) = default;
};

// A port given as a number or as a name (Kubernetes IntOrString).
struct PortRef {
  uint32_t number = 0;  // set when name is empty
  std::string name;
  bool IsName() const { return !name.empty(); }
};

}  // namespace cmesh::model
