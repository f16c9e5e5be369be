// Refusing what cmesh-proxy does not implement: every set field of a message must be on the list
// the router handles (or knows to be irrelevant to routing). Anything else, including fields newer
// Envoy APIs add, becomes a Build error rather than being silently ignored.
#pragma once

#include <google/protobuf/message.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace cmesh::router {

// True when every field set in `message` is in `allowed` (proto field names); else sets `*error`
// to "WHERE: field NAME is not supported by cmesh-proxy".
bool OnlyFields(const google::protobuf::Message& message,
                std::initializer_list<std::string_view> allowed, const std::string& where,
                std::string* error);

}  // namespace cmesh::router
