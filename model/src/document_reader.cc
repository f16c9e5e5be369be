#include "document_reader.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <cerrno>

namespace cmesh::model::internal {
namespace {

using Json = nlohmann::json;

// Guards against alias bombs and absurd nesting (the fuzzer feeds us anything).
constexpr size_t kMaxNodes = 2'000'000;
constexpr int kMaxDepth = 256;

struct ConvertError {
  std::string message;
  int line;  // 0-based within the chunk
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [-+]?[0-9]+
bool IsInt(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsFloat(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// A plain (unquoted) scalar resolved with YAML 1.2's core schema, which is what Kubernetes users
// expect for the values that matter here: numbers, true/false, null. Quoted scalars stay strings.
Json PlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (IsInt(s)) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0) return static_cast<int64_t>(v);
    if (s[0] != '-') {
      errno = 0;
      unsigned long long u = std::strtoull(s.c_str(), &end, 10);
      if (errno == 0) return static_cast<uint64_t>(u);
    }
    return std::strtod(s.c_str(), nullptr);
  }
  if (IsFloat(s)) return std::strtod(s.c_str(), nullptr);
  return s;
}

class Converter {
 public:
  bool Convert(const YAML::Node& node, Json& out, int depth) {
    if (++nodes_ > kMaxNodes) return Fail("document too large (alias expansion?)", node);
    if (depth > kMaxDepth) return Fail("document nested too deeply", node);
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out = nullptr;
        return true;
      case YAML::NodeType::Scalar:
        // yaml-cpp tags plain scalars "?" and quoted or block scalars "!".
        out = node.Tag() == "?" ? PlainScalar(node.Scalar()) : Json(node.Scalar());
        if (node.Tag() == "tag:yaml.org,2002:int" || node.Tag() == "tag:yaml.org,2002:float" ||
            node.Tag() == "tag:yaml.org,2002:bool" || node.Tag() == "tag:yaml.org,2002:null") {
          out = PlainScalar(node.Scalar());
        }
        return true;
      case YAML::NodeType::Sequence:
        out = Json::array();
        for (const auto& item : node) {
          Json j;
          if (!Convert(item, j, depth + 1)) return false;
          out.push_back(std::move(j));
        }
        return true;
      case YAML::NodeType::Map:
        out = Json::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) return Fail("map keys must be scalars", kv.first);
          Json j;
          if (!Convert(kv.second, j, depth + 1)) return false;
          out[kv.first.Scalar()] = std::move(j);
        }
        return true;
    }
    return true;
  }

  const ConvertError& error() const { return error_; }

 private:
  bool Fail(std::string message, const YAML::Node& at) {
    error_ = ConvertError{std::move(message), at.Mark().line};
    return false;
  }
  size_t nodes_ = 0;
  ConvertError error_;
};

// Follows a field path ("a.b[2].c", "headers[end-user]") through the YAML tree to the line of the
// deepest node it reaches. Bracketed parts index sequences or name map keys.
int LineOfField(const YAML::Node& root, int first_line, std::string_view field) {
  YAML::Node node = root;
  int line = first_line + root.Mark().line + 1;
  size_t i = 0;
  while (i < field.size()) {
    std::string segment;
    if (field[i] == '.') ++i;
    if (i < field.size() && field[i] == '[') {
      size_t close = field.find(']', i);
      if (close == std::string_view::npos) break;
      segment = std::string(field.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      size_t end = field.find_first_of(".[", i);
      if (end == std::string_view::npos) end = field.size();
      segment = std::string(field.substr(i, end - i));
      i = end;
    }
    YAML::Node next;
    bool found = false;
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (kv.first.IsScalar() && kv.first.Scalar() == segment) {
          // The key's line: for a value spanning several lines, that is where it begins.
          line = first_line + kv.first.Mark().line + 1;
          next = kv.second;
          found = true;
          break;
        }
      }
    } else if (node.IsSequence() && !segment.empty() &&
               segment.find_first_not_of("0123456789") == std::string::npos &&
               segment.size() < 9) {
      size_t index = std::stoul(segment);
      if (index < node.size()) {
        next = node[index];
        line = first_line + next.Mark().line + 1;
        found = true;
      }
    }
    if (!found) break;
    // reset() rebinds; operator= would overwrite the referenced node's content in the tree.
    node.reset(next);
  }
  return line;
}

Diagnostic FileError(const std::string& file, int line, std::string message) {
  Diagnostic d;
  d.severity = Severity::kError;
  d.object.file = file;
  d.object.line = line;
  d.message = std::move(message);
  return d;
}

bool IsSeparator(std::string_view line) {
  if (line.substr(0, 3) != "---") return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

// Splits on "---" lines ourselves rather than with YAML::LoadAll, so that one malformed document
// does not hide the others of the same file.
struct Chunk {
  std::string text;
  int first_line;  // 0-based line of the chunk's first line in the file
};

std::vector<Chunk> SplitYaml(std::string_view text) {
  std::vector<Chunk> chunks;
  Chunk current{"", 0};
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (IsSeparator(line)) {
      chunks.push_back(std::move(current));
      current = Chunk{"", line_no};
    }
    current.text.append(line);
    current.text.push_back('\n');
    ++line_no;
    if (end == text.size()) break;
    pos = end + 1;
  }
  chunks.push_back(std::move(current));
  return chunks;
}

void ReadYaml(std::string_view text, const std::string& file, std::vector<RawDocument>& docs,
              std::vector<Diagnostic>& diagnostics) {
  for (const Chunk& chunk : SplitYaml(text)) {
    YAML::Node root;
    try {
      root = YAML::Load(chunk.text);
    } catch (const YAML::Exception& e) {
      int line = e.mark.is_null() ? chunk.first_line + 1 : chunk.first_line + e.mark.line + 1;
      diagnostics.push_back(
          FileError(file, line, "malformed YAML: " + e.msg + "; this document is skipped"));
      continue;
    } catch (const std::exception& e) {
      diagnostics.push_back(FileError(file, chunk.first_line + 1,
                                      std::string("malformed YAML: ") + e.what() +
                                          "; this document is skipped"));
      continue;
    }
    if (!root.IsDefined() || root.IsNull()) continue;
    Converter converter;
    Json json;
    bool ok = false;
    try {
      ok = converter.Convert(root, json, 0);
    } catch (const std::exception& e) {  // yaml-cpp can throw while iterating bad nodes
      diagnostics.push_back(FileError(file, chunk.first_line + 1,
                                      std::string("malformed YAML: ") + e.what()));
      continue;
    }
    if (!ok) {
      diagnostics.push_back(FileError(file, chunk.first_line + converter.error().line + 1,
                                      "malformed YAML: " + converter.error().message));
      continue;
    }
    int line = chunk.first_line + root.Mark().line + 1;
    int first_line = chunk.first_line;
    auto line_of = [root, first_line](std::string_view field) {
      try {
        return LineOfField(root, first_line, field);
      } catch (const std::exception&) {  // yaml-cpp throws on odd nodes; the line is a nicety
        return 0;
      }
    };
    docs.push_back(RawDocument{std::move(json), line, line_of});
  }
}

int LineOfByte(std::string_view text, size_t byte) {
  byte = std::min(byte, text.size());
  int line = 1;
  for (size_t i = 0; i < byte; ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

void ReadJson(std::string_view text, const std::string& file, std::vector<RawDocument>& docs,
              std::vector<Diagnostic>& diagnostics) {
  Json json;
  try {
    json = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // nlohmann reports the byte just past the offending token.
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    auto colon = what.rfind(": ");
    diagnostics.push_back(FileError(
        file, LineOfByte(text, byte),
        "malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2))));
    return;
  } catch (const std::exception& e) {
    diagnostics.push_back(FileError(file, 0, std::string("malformed JSON: ") + e.what()));
    return;
  }
  // A top-level array is read as a sequence of documents.
  if (json.is_array()) {
    for (auto& item : json) docs.push_back(RawDocument{std::move(item), 1, nullptr});
  } else if (!json.is_null()) {
    docs.push_back(RawDocument{std::move(json), 1, nullptr});
  }
}

}  // namespace

void ReadDocuments(std::string_view text, const std::string& file, std::vector<RawDocument>& docs,
                   std::vector<Diagnostic>& diagnostics) {
  size_t first = 0;
  // Skip a UTF-8 byte order mark and leading white space to sniff JSON.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (first < text.size() && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  if (first < text.size() && (text[first] == '{' || text[first] == '[')) {
    ReadJson(text, file, docs, diagnostics);
  } else {
    ReadYaml(text, file, docs, diagnostics);
  }
}

uint64_t CanonicalHash(const Json& json) {
  // nlohmann::json objects are std::map-backed, so dump() emits keys in sorted order.
  std::string canonical = json.dump(-1, ' ', false, Json::error_handler_t::replace);
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : canonical) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace cmesh::model::internal
