#include "json_patch_apply.h"

#include <vector>

namespace cmesh::webhook::test_support {
namespace {

// RFC 6901: split on "/", then "~1" → "/" and "~0" → "~" (in that order).
bool SplitPointer(const std::string& pointer, std::vector<std::string>* tokens, std::string* error) {
  tokens->clear();
  if (pointer.empty()) return true;
  if (pointer[0] != '/') {
    *error = "pointer does not start with /: " + pointer;
    return false;
  }
  std::size_t start = 1;
  while (true) {
    const std::size_t end = pointer.find('/', start);
    std::string raw = pointer.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string token;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
        continue;
      }
      if (i + 1 >= raw.size() || (raw[i + 1] != '0' && raw[i + 1] != '1')) {
        *error = "bad escape in " + pointer;
        return false;
      }
      token += raw[i + 1] == '0' ? '~' : '/';
      ++i;
    }
    tokens->push_back(std::move(token));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return true;
}

bool ParseIndex(const std::string& token, std::size_t limit, std::size_t* index) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return false;
  std::size_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value > limit) return false;
  *index = value;
  return true;
}

// The container that holds the pointer's last token.
nlohmann::json* Parent(nlohmann::json* doc, const std::vector<std::string>& tokens, std::string* error) {
  nlohmann::json* node = doc;
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (node->is_object()) {
      auto it = node->find(t);
      if (it == node->end()) {
        *error = "missing member " + t;
        return nullptr;
      }
      node = &*it;
    } else if (node->is_array()) {
      std::size_t index = 0;
      if (!ParseIndex(t, node->size() - 1, &index) || node->empty()) {
        *error = "bad index " + t;
        return nullptr;
      }
      node = &(*node)[index];
    } else {
      *error = "cannot descend into a scalar at " + t;
      return nullptr;
    }
  }
  return node;
}

}  // namespace

bool ApplyJsonPatch(const nlohmann::json& document, const nlohmann::json& patch, nlohmann::json* result,
                    std::string* error) {
  nlohmann::json doc = document;
  if (!patch.is_array()) {
    *error = "a patch is an array";
    return false;
  }
  for (const auto& op : patch) {
    if (!op.is_object() || !op.contains("op") || !op.contains("path") || !op["path"].is_string()) {
      *error = "operation without op or path: " + op.dump();
      return false;
    }
    const std::string name = op["op"].get<std::string>();
    std::vector<std::string> tokens;
    if (!SplitPointer(op["path"].get<std::string>(), &tokens, error)) return false;
    if (tokens.empty()) {
      if (name == "add" || name == "replace") {
        doc = op.at("value");
        continue;
      }
      *error = "unsupported whole-document " + name;
      return false;
    }
    nlohmann::json* parent = Parent(&doc, tokens, error);
    if (parent == nullptr) return false;
    const std::string& last = tokens.back();
    if (name == "add") {
      if (!op.contains("value")) {
        *error = "add without value";
        return false;
      }
      if (parent->is_object()) {
        (*parent)[last] = op["value"];
      } else if (parent->is_array()) {
        std::size_t index = parent->size();
        if (last != "-" && !ParseIndex(last, parent->size(), &index)) {
          *error = "add: bad index " + last;
          return false;
        }
        parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(index), op["value"]);
      } else {
        *error = "add: parent is a scalar";
        return false;
      }
    } else if (name == "remove" || name == "replace" || name == "test") {
      nlohmann::json* target = nullptr;
      std::size_t index = 0;
      if (parent->is_object() && parent->contains(last)) {
        target = &(*parent)[last];
      } else if (parent->is_array() && !parent->empty() && ParseIndex(last, parent->size() - 1, &index)) {
        target = &(*parent)[index];
      }
      if (target == nullptr) {
        *error = name + ": no value at " + op["path"].get<std::string>();
        return false;
      }
      if (name == "test") {
        if (*target != op.at("value")) {
          *error = "test failed at " + op["path"].get<std::string>();
          return false;
        }
      } else if (name == "replace") {
        *target = op.at("value");
      } else if (parent->is_object()) {
        parent->erase(last);
      } else {
        parent->erase(parent->begin() + static_cast<std::ptrdiff_t>(index));
      }
    } else {
      *error = "unsupported op " + name;
      return false;
    }
  }
  *result = std::move(doc);
  return true;
}

}  // namespace cmesh::webhook::test_support
