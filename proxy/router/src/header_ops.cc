#include "header_ops.h"

#include <algorithm>

#include "cmesh/http1/message.h"
#include "field_check.h"
#include "string_matcher.h"

// HeaderValueOption.append is deprecated, but Istio and older control planes still send it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cmesh::router {
namespace {

using envoy::config::core::v3::HeaderValueOption;

bool Modifiable(const std::string& name, const std::string& at, std::string* error) {
  bool token = !name.empty();
  for (char c : name) token = token && c > ' ' && c != 0x7f && c != ':';
  if (!name.empty() && name[0] == ':') {
    *error = at + ": pseudo-header " + name + " may not be modified";
    return false;
  }
  if (!token) {
    *error = at + ": invalid header name \"" + name + "\"";
    return false;
  }
  if (http1::EqualsIgnoreCase(name, "host")) {
    *error = at + ": the host header may not be modified (use host_rewrite_literal)";
    return false;
  }
  return true;
}

// Envoy's header values are substitution formats; cmesh-proxy implements literals only.
bool LiteralValue(const std::string& raw, const std::string& at, std::string& out,
                  std::string* error) {
  out.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' || raw[i] == '\n' || raw[i] == '\0') {
      *error = at + ": header value contains CR, LF or NUL";
      return false;
    }
    if (raw[i] != '%') {
      out.push_back(raw[i]);
    } else if (i + 1 < raw.size() && raw[i + 1] == '%') {
      out.push_back('%');
      ++i;
    } else {
      *error = at + ": header value \"" + raw +
               "\" uses a substitution formatter, which cmesh-proxy does not implement";
      return false;
    }
  }
  return true;
}

}  // namespace

bool CompileHeaderOps(const google::protobuf::RepeatedPtrField<HeaderValueOption>& add,
                      const google::protobuf::RepeatedPtrField<std::string>& remove,
                      const std::string& where, std::vector<HeaderOp>& out, std::string* error) {
  for (const auto& name : remove) {
    if (!Modifiable(name, where + ": header to remove", error)) return false;
    out.push_back({HeaderOp::Action::kRemove, ToLower(name), ""});
  }
  for (const auto& option : add) {
    const std::string at = where + ": header to add \"" + option.header().key() + "\"";
    if (!OnlyFields(option, {"header", "append", "append_action", "keep_empty_value"}, at, error) ||
        !OnlyFields(option.header(), {"key", "value", "raw_value"}, at, error) ||
        !Modifiable(option.header().key(), at, error)) {
      return false;
    }
    if (option.has_append() &&
        option.append_action() != HeaderValueOption::APPEND_IF_EXISTS_OR_ADD) {
      *error = at + ": both append and append_action are set";
      return false;
    }
    HeaderOp op;
    op.name = ToLower(option.header().key());
    const std::string& raw =
        option.header().value().empty() ? option.header().raw_value() : option.header().value();
    if (!LiteralValue(raw, at, op.value, error)) return false;
    if (option.has_append()) {
      op.action =
          option.append().value() ? HeaderOp::Action::kAppend : HeaderOp::Action::kOverwrite;
    } else {
      switch (option.append_action()) {
        case HeaderValueOption::APPEND_IF_EXISTS_OR_ADD:
          op.action = HeaderOp::Action::kAppend;
          break;
        case HeaderValueOption::ADD_IF_ABSENT:
          op.action = HeaderOp::Action::kAddIfAbsent;
          break;
        case HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD:
          op.action = HeaderOp::Action::kOverwrite;
          break;
        case HeaderValueOption::OVERWRITE_IF_EXISTS:
          op.action = HeaderOp::Action::kOverwriteIfExists;
          break;
        default:
          *error = at + ": unknown append_action";
          return false;
      }
    }
    // Envoy skips an addition that evaluates to an empty value unless told to keep it.
    if (op.value.empty() && !option.keep_empty_value()) continue;
    out.push_back(std::move(op));
  }
  return true;
}

void ApplyHeaderOps(std::span<const HeaderOp> ops, std::vector<OwnedHeader>& headers) {
  auto named = [](const std::string& name) {
    return [&name](const OwnedHeader& h) { return http1::EqualsIgnoreCase(h.name, name); };
  };
  for (const HeaderOp& op : ops) {
    const bool exists = std::any_of(headers.begin(), headers.end(), named(op.name));
    switch (op.action) {
      case HeaderOp::Action::kRemove:
        std::erase_if(headers, named(op.name));
        break;
      case HeaderOp::Action::kAppend:
        headers.push_back({op.name, op.value});
        break;
      case HeaderOp::Action::kAddIfAbsent:
        if (!exists) headers.push_back({op.name, op.value});
        break;
      case HeaderOp::Action::kOverwriteIfExists:
        if (!exists) break;
        [[fallthrough]];
      case HeaderOp::Action::kOverwrite:
        // Envoy's setReferenceKey: every field of that name goes, one field with the value comes.
        std::erase_if(headers, named(op.name));
        headers.push_back({op.name, op.value});
        break;
    }
  }
}

}  // namespace cmesh::router
