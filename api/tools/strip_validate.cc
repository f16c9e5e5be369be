// Removes protoc-gen-validate annotations from a .proto file.
//
// Envoy's protos use validate.proto options newer than Debian's protoc-gen-validate package knows,
// and Debian's protoc refuses them. The annotations play no part in C++ code generation, so the build
// drops them: the `import "validate/validate.proto";` line, `option (validate.xxx) = ...;`
// statements, and `(validate.xxx) = value` entries inside field option lists `[...]`. String
// literals and comments are skipped while scanning, so brackets or braces inside them never count.
//
// Usage: strip_validate INPUT OUTPUT
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Returns the index just past the string literal or comment that starts at `i`, or `i` if none does.
size_t SkipLiteral(std::string_view s, size_t i) {
  if (s[i] == '"' || s[i] == '\'') {
    const char quote = s[i];
    size_t j = i + 1;
    while (j < s.size() && s[j] != quote) {
      if (s[j] == '\\') ++j;
      ++j;
    }
    return j < s.size() ? j + 1 : s.size();
  }
  if (s.compare(i, 2, "//") == 0) {
    size_t j = s.find('\n', i);
    return j == std::string_view::npos ? s.size() : j;
  }
  if (s.compare(i, 2, "/*") == 0) {
    size_t j = s.find("*/", i + 2);
    return j == std::string_view::npos ? s.size() : j + 2;
  }
  return i;
}

// Index of the bracket closing the one at `open` (which is '[' or '{' or '('), or npos.
size_t MatchClose(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size();) {
    size_t past = SkipLiteral(s, i);
    if (past != i) {
      i = past;
      continue;
    }
    char c = s[i];
    if (c == '[' || c == '{' || c == '(') ++depth;
    if (c == ']' || c == '}' || c == ')') {
      if (--depth == 0) return i;
    }
    ++i;
  }
  return std::string_view::npos;
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

bool IsValidateOption(std::string_view entry) { return Trim(entry).starts_with("(validate."); }

// Splits the inside of an option list at top-level commas.
std::vector<std::string_view> SplitTopLevel(std::string_view inner) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i < inner.size();) {
    size_t past = SkipLiteral(inner, i);
    if (past != i) {
      i = past;
      continue;
    }
    char c = inner[i];
    if (c == '[' || c == '{' || c == '(') {
      size_t close = MatchClose(inner, i);
      i = close == std::string_view::npos ? inner.size() : close + 1;
      continue;
    }
    if (c == ',') {
      parts.push_back(inner.substr(start, i - start));
      start = i + 1;
    }
    ++i;
  }
  parts.push_back(inner.substr(start));
  return parts;
}

bool StartsWord(std::string_view s, size_t i, std::string_view word) {
  if (s.compare(i, word.size(), word) != 0) return false;
  if (i > 0 && (std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_')) return false;
  size_t end = i + word.size();
  return end < s.size() && !std::isalnum(static_cast<unsigned char>(s[end])) && s[end] != '_';
}

std::string Strip(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t past = SkipLiteral(s, i);
    if (past != i) {
      out.append(s.substr(i, past - i));
      i = past;
      continue;
    }
    if (StartsWord(s, i, "import")) {
      size_t semi = s.find(';', i);
      std::string_view stmt = s.substr(i, semi - i);
      if (semi != std::string_view::npos && stmt.find("\"validate/validate.proto\"") != std::string_view::npos) {
        i = semi + 1;
        continue;
      }
    }
    if (StartsWord(s, i, "option")) {
      size_t j = i + 6;
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (s.compare(j, 10, "(validate.") == 0) {
        // Skip to the terminating ';' at depth zero.
        size_t k = j;
        while (k < s.size() && s[k] != ';') {
          size_t lit = SkipLiteral(s, k);
          if (lit != k) {
            k = lit;
          } else if (s[k] == '{' || s[k] == '[' || s[k] == '(') {
            size_t close = MatchClose(s, k);
            k = close == std::string_view::npos ? s.size() : close + 1;
          } else {
            ++k;
          }
        }
        i = k < s.size() ? k + 1 : s.size();
        continue;
      }
    }
    if (s[i] == '[') {
      size_t close = MatchClose(s, i);
      if (close != std::string_view::npos) {
        std::string_view inner = s.substr(i + 1, close - i - 1);
        std::vector<std::string_view> parts = SplitTopLevel(inner);
        std::vector<std::string_view> kept;
        for (std::string_view p : parts) {
          if (!IsValidateOption(p)) kept.push_back(p);
        }
        if (kept.size() == parts.size()) {
          // Nothing to remove here, but nested lists may still hold options: recurse.
          out.push_back('[');
          out.append(Strip(inner));
          out.push_back(']');
        } else if (kept.empty()) {
          while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
        } else {
          out.push_back('[');
          for (size_t k = 0; k < kept.size(); ++k) {
            if (k > 0) out.push_back(',');
            out.append(kept[k]);
          }
          out.push_back(']');
        }
        i = close + 1;
        continue;
      }
    }
    out.push_back(s[i]);
    ++i;
  }
  return out;
}

// True when "(validate." occurs outside comments and string literals.
bool HasValidateOption(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t past = SkipLiteral(s, i);
    if (past != i) {
      i = past;
      continue;
    }
    if (s.compare(i, 10, "(validate.") == 0) return true;
    ++i;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: strip_validate INPUT OUTPUT\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "strip_validate: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string result = Strip(buf.str());
  if (HasValidateOption(result)) {
    std::cerr << "strip_validate: " << argv[1] << ": a validate option was left behind\n";
    return 1;
  }
  std::string tmp = std::string(argv[2]) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << result;
    if (!out) {
      std::cerr << "strip_validate: cannot write " << tmp << "\n";
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), argv[2]) != 0) {
    std::cerr << "strip_validate: cannot rename " << tmp << "\n";
    return 1;
  }
  return 0;
}
