// Typed, path-tracking reads out of a JSON tree (YAML is converted to JSON first). Every read
// reports a type error with the field path instead of throwing, and strict readers report fields
// they were never asked about, the way istioctl rejects unknown fields in a spec.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/model/common.h"
#include "cmesh/model/diagnostic.h"

namespace cmesh::model::internal {

using Json = nlohmann::json;

// Collects the diagnostics of one object.
class DecodeContext {
 public:
  DecodeContext(ObjectRef ref, std::vector<Diagnostic>* out) : ref_(std::move(ref)), out_(out) {}
  void Error(std::string field, std::string message);
  void Warning(std::string field, std::string message);
  int error_count() const { return errors_; }
  const ObjectRef& ref() const { return ref_; }

 private:
  ObjectRef ref_;
  std::vector<Diagnostic>* out_;
  int errors_ = 0;
};

std::string JsonTypeName(const Json& j);

// Free readers for one value at `path`; they return false (after reporting) on a type mismatch.
// A JSON null is treated as absent by the callers below, as protobuf's JSON mapping does.
bool ReadString(DecodeContext& ctx, const Json& j, const std::string& path, std::string& out);
bool ReadInt32(DecodeContext& ctx, const Json& j, const std::string& path, int32_t& out);
bool ReadUInt32(DecodeContext& ctx, const Json& j, const std::string& path, uint32_t& out);
bool ReadUInt64(DecodeContext& ctx, const Json& j, const std::string& path, uint64_t& out);
bool ReadDouble(DecodeContext& ctx, const Json& j, const std::string& path, double& out);
bool ReadBool(DecodeContext& ctx, const Json& j, const std::string& path, bool& out);
bool ReadDuration(DecodeContext& ctx, const Json& j, const std::string& path, Duration& out);

class ObjectReader {
 public:
  // `strict`: fields never read are errors ("unknown field"). Reports a type error when `node` is
  // not an object (valid() is then false and every read is a no-op).
  ObjectReader(DecodeContext& ctx, const Json& node, std::string path, bool strict);
  bool valid() const { return node_ != nullptr; }
  DecodeContext& ctx() { return ctx_; }
  std::string Path(std::string_view key) const;

  // The value of `key`, marking it known; nullptr when absent or null.
  const Json* Get(std::string_view key);
  bool Has(std::string_view key);
  // Known fields of the API that the model does not keep.
  void Ignore(std::initializer_list<std::string_view> keys);

  void String(std::string_view key, std::string& out);
  void OptString(std::string_view key, std::optional<std::string>& out);
  void Int32(std::string_view key, int32_t& out);
  void Int32(std::string_view key, std::optional<int32_t>& out);
  void UInt32(std::string_view key, uint32_t& out);
  void UInt32(std::string_view key, std::optional<uint32_t>& out);
  void UInt64(std::string_view key, std::optional<uint64_t>& out);
  void Double(std::string_view key, std::optional<double>& out);
  void Bool(std::string_view key, bool& out);
  void Bool(std::string_view key, std::optional<bool>& out);
  void Dur(std::string_view key, std::optional<Duration>& out);
  void Strings(std::string_view key, std::vector<std::string>& out);
  void StringMap(std::string_view key, std::map<std::string, std::string>& out);
  // {number: N} (Istio's PortSelector).
  void PortNumber(std::string_view key, std::optional<uint32_t>& out);
  // {value: X} (Istio's Percent).
  void Percent(std::string_view key, std::optional<double>& out);
  // An enum given by name; reports "Unsupported value" listing `allowed`. Returns the index.
  std::optional<size_t> Enum(std::string_view key, const std::vector<std::string_view>& allowed);

  // Reports unknown fields when strict. Call once, after every read.
  void Finish();

 private:
  DecodeContext& ctx_;
  const Json* node_;
  std::string path_;
  bool strict_;
  std::set<std::string, std::less<>> known_;
};

// Calls fn(element, path) for each element of the list at `key` ("key[i]").
template <typename Fn>
void ForEachItem(ObjectReader& r, std::string_view key, Fn fn) {
  const Json* list = r.Get(key);
  if (list == nullptr) return;
  std::string path = r.Path(key);
  if (!list->is_array()) {
    r.ctx().Error(path, "Invalid value: expected a list, got " + JsonTypeName(*list));
    return;
  }
  for (size_t i = 0; i < list->size(); ++i) fn((*list)[i], path + "[" + std::to_string(i) + "]");
}

// Calls fn(name, value, path) for each entry of the map at `key` ("key[name]").
template <typename Fn>
void ForEachEntry(ObjectReader& r, std::string_view key, Fn fn) {
  const Json* map = r.Get(key);
  if (map == nullptr) return;
  std::string path = r.Path(key);
  if (!map->is_object()) {
    r.ctx().Error(path, "Invalid value: expected a map, got " + JsonTypeName(*map));
    return;
  }
  for (const auto& [name, value] : map->items()) fn(name, value, path + "[" + name + "]");
}

}  // namespace cmesh::model::internal
