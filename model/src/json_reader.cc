#include "json_reader.h"

#include <cmath>
#include <limits>

#include "cmesh/model/duration.h"

namespace cmesh::model::internal {

void DecodeContext::Error(std::string field, std::string message) {
  ++errors_;
  out_->push_back(Diagnostic{Severity::kError, ref_, std::move(field), std::move(message)});
}

void DecodeContext::Warning(std::string field, std::string message) {
  out_->push_back(Diagnostic{Severity::kWarning, ref_, std::move(field), std::move(message)});
}

std::string JsonTypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "a map";
    case Json::value_t::array: return "a list";
    case Json::value_t::string: return "string \"" + j.get<std::string>() + "\"";
    case Json::value_t::boolean: return j.get<bool>() ? "boolean true" : "boolean false";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number " + j.dump();
    default: return "an unsupported value";
  }
}

namespace {

void TypeError(DecodeContext& ctx, const std::string& path, std::string_view expected,
               const Json& got) {
  ctx.Error(path, "Invalid value: expected " + std::string(expected) + ", got " + JsonTypeName(got));
}

// An integral JSON number as a long double range-checked by the callers; floats such as 3.0 are
// accepted because protobuf's JSON mapping accepts them.
bool IntegralValue(const Json& j, long double& out) {
  if (j.is_number_integer() || j.is_number_unsigned()) {
    out = j.is_number_unsigned() ? static_cast<long double>(j.get<uint64_t>())
                                 : static_cast<long double>(j.get<int64_t>());
    return true;
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && std::floor(d) == d) {
      out = d;
      return true;
    }
  }
  return false;
}

template <typename T>
bool ReadIntegral(DecodeContext& ctx, const Json& j, const std::string& path, T& out,
                  std::string_view what) {
  long double v = 0;
  if (!IntegralValue(j, v) || v < static_cast<long double>(std::numeric_limits<T>::min()) ||
      v > static_cast<long double>(std::numeric_limits<T>::max())) {
    TypeError(ctx, path, what, j);
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

}  // namespace

bool ReadString(DecodeContext& ctx, const Json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) {
    TypeError(ctx, path, "a string", j);
    return false;
  }
  out = j.get<std::string>();
  return true;
}

bool ReadInt32(DecodeContext& ctx, const Json& j, const std::string& path, int32_t& out) {
  return ReadIntegral(ctx, j, path, out, "a 32-bit integer");
}

bool ReadUInt32(DecodeContext& ctx, const Json& j, const std::string& path, uint32_t& out) {
  return ReadIntegral(ctx, j, path, out, "an unsigned 32-bit integer");
}

bool ReadUInt64(DecodeContext& ctx, const Json& j, const std::string& path, uint64_t& out) {
  return ReadIntegral(ctx, j, path, out, "an unsigned integer");
}

bool ReadDouble(DecodeContext& ctx, const Json& j, const std::string& path, double& out) {
  if (!j.is_number()) {
    TypeError(ctx, path, "a number", j);
    return false;
  }
  out = j.get<double>();
  return true;
}

bool ReadBool(DecodeContext& ctx, const Json& j, const std::string& path, bool& out) {
  if (!j.is_boolean()) {
    TypeError(ctx, path, "a boolean", j);
    return false;
  }
  out = j.get<bool>();
  return true;
}

bool ReadDuration(DecodeContext& ctx, const Json& j, const std::string& path, Duration& out) {
  if (!j.is_string()) {
    TypeError(ctx, path, "a duration string such as \"1.5s\"", j);
    return false;
  }
  auto d = ParseDuration(j.get<std::string>());
  if (!d) {
    ctx.Error(path, "Invalid value: \"" + j.get<std::string>() +
                        "\": not a duration (expected e.g. \"1.5s\", \"100ms\", \"1m\", \"1h\")");
    return false;
  }
  out = *d;
  return true;
}

ObjectReader::ObjectReader(DecodeContext& ctx, const Json& node, std::string path, bool strict)
    : ctx_(ctx), node_(&node), path_(std::move(path)), strict_(strict) {
  if (!node.is_object()) {
    TypeError(ctx, path_.empty() ? "<document>" : path_, "a map", node);
    node_ = nullptr;
  }
}

std::string ObjectReader::Path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const Json* ObjectReader::Get(std::string_view key) {
  if (node_ == nullptr) return nullptr;
  known_.emplace(key);
  auto it = node_->find(key);
  if (it == node_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool ObjectReader::Has(std::string_view key) {
  return node_ != nullptr && node_->contains(key) && !(*node_)[std::string(key)].is_null();
}

void ObjectReader::Ignore(std::initializer_list<std::string_view> keys) {
  for (auto k : keys) known_.emplace(k);
}

void ObjectReader::String(std::string_view key, std::string& out) {
  if (const Json* j = Get(key)) ReadString(ctx_, *j, Path(key), out);
}

void ObjectReader::OptString(std::string_view key, std::optional<std::string>& out) {
  std::string s;
  if (const Json* j = Get(key); j && ReadString(ctx_, *j, Path(key), s)) out = std::move(s);
}

void ObjectReader::Int32(std::string_view key, int32_t& out) {
  if (const Json* j = Get(key)) ReadInt32(ctx_, *j, Path(key), out);
}

void ObjectReader::Int32(std::string_view key, std::optional<int32_t>& out) {
  int32_t v = 0;
  if (const Json* j = Get(key); j && ReadInt32(ctx_, *j, Path(key), v)) out = v;
}

void ObjectReader::UInt32(std::string_view key, uint32_t& out) {
  if (const Json* j = Get(key)) ReadUInt32(ctx_, *j, Path(key), out);
}

void ObjectReader::UInt32(std::string_view key, std::optional<uint32_t>& out) {
  uint32_t v = 0;
  if (const Json* j = Get(key); j && ReadUInt32(ctx_, *j, Path(key), v)) out = v;
}

void ObjectReader::UInt64(std::string_view key, std::optional<uint64_t>& out) {
  uint64_t v = 0;
  if (const Json* j = Get(key); j && ReadUInt64(ctx_, *j, Path(key), v)) out = v;
}

void ObjectReader::Double(std::string_view key, std::optional<double>& out) {
  double v = 0;
  if (const Json* j = Get(key); j && ReadDouble(ctx_, *j, Path(key), v)) out = v;
}

void ObjectReader::Bool(std::string_view key, bool& out) {
  if (const Json* j = Get(key)) ReadBool(ctx_, *j, Path(key), out);
}

void ObjectReader::Bool(std::string_view key, std::optional<bool>& out) {
  bool v = false;
  if (const Json* j = Get(key); j && ReadBool(ctx_, *j, Path(key), v)) out = v;
}

void ObjectReader::Dur(std::string_view key, std::optional<Duration>& out) {
  Duration v;
  if (const Json* j = Get(key); j && ReadDuration(ctx_, *j, Path(key), v)) out = v;
}

void ObjectReader::Strings(std::string_view key, std::vector<std::string>& out) {
  ForEachItem(*this, key, [&](const Json& item, const std::string& path) {
    std::string s;
    if (ReadString(ctx_, item, path, s)) out.push_back(std::move(s));
  });
}

void ObjectReader::StringMap(std::string_view key, std::map<std::string, std::string>& out) {
  ForEachEntry(*this, key, [&](const std::string& name, const Json& value, const std::string& path) {
    std::string s;
    if (ReadString(ctx_, value, path, s)) out[name] = std::move(s);
  });
}

void ObjectReader::PortNumber(std::string_view key, std::optional<uint32_t>& out) {
  const Json* j = Get(key);
  if (j == nullptr) return;
  ObjectReader port(ctx_, *j, Path(key), strict_);
  port.UInt32("number", out);
  port.Finish();
}

void ObjectReader::Percent(std::string_view key, std::optional<double>& out) {
  const Json* j = Get(key);
  if (j == nullptr) return;
  ObjectReader pct(ctx_, *j, Path(key), strict_);
  pct.Double("value", out);
  if (!out && pct.valid()) out = 0.0;  // {} is a zero percentage
  pct.Finish();
}

std::optional<size_t> ObjectReader::Enum(std::string_view key,
                                         const std::vector<std::string_view>& allowed) {
  const Json* j = Get(key);
  if (j == nullptr) return std::nullopt;
  std::string s;
  if (!ReadString(ctx_, *j, Path(key), s)) return std::nullopt;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (allowed[i] == s) return i;
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  ctx_.Error(Path(key), "Unsupported value: \"" + s + "\": supported values: " + list);
  return std::nullopt;
}

void ObjectReader::Finish() {
  if (node_ == nullptr || !strict_) return;
  for (const auto& [name, value] : node_->items()) {
    if (known_.find(name) == known_.end()) {
      ctx_.Error(Path(name), "unknown field \"" + name + "\"");
    }
  }
}

}  // namespace cmesh::model::internal
