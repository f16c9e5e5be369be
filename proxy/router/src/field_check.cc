#include "field_check.h"

#include <algorithm>
#include <vector>

namespace cmesh::router {

bool OnlyFields(const google::protobuf::Message& message,
                std::initializer_list<std::string_view> allowed, const std::string& where,
                std::string* error) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // set fields only (proto3: non-default)
  for (const auto* field : fields) {
    if (std::find(allowed.begin(), allowed.end(), field->name()) != allowed.end()) continue;
    *error = where + ": field " + field->name() + " is not supported by cmesh-proxy";
    return false;
  }
  return true;
}

}  // namespace cmesh::router
