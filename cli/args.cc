#include "args.h"

#include <ostream>

#include "commands.h"

namespace cmesh::cli {
namespace {

// The key an option is stored under: its first "--long" name without dashes, else its first name.
std::string KeyOf(const OptionSpec& spec) {
  for (const auto& n : spec.names) {
    if (n.rfind("--", 0) == 0) return n.substr(2);
  }
  return spec.names.front().substr(1);
}

}  // namespace

std::optional<Args> Args::Parse(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs,
                                std::string* error) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "-" || arg.empty() || arg[0] != '-') {
      args.positional_.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs) {
      for (const auto& n : s.names) {
        if (n == name) spec = &s;
      }
    }
    if (!spec) {
      *error = "unknown option " + name;
      return std::nullopt;
    }
    const std::string key = KeyOf(*spec);
    if (!spec->repeatable && args.values_.count(key)) {
      *error = "option " + name + " given more than once";
      return std::nullopt;
    }
    if (!spec->takes_value) {
      if (inline_value) {
        *error = "option " + name + " takes no value";
        return std::nullopt;
      }
      args.values_[key].push_back("true");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) {
        *error = "option " + name + " needs a value";
        return std::nullopt;
      }
      inline_value = argv[++i];
    }
    args.values_[key].push_back(*inline_value);
  }
  return args;
}

std::string Args::Get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& Args::All(const std::string& key) const {
  static const std::vector<std::string> kEmpty;
  auto it = values_.find(key);
  return it == values_.end() ? kEmpty : it->second;
}

std::optional<Args> ParseCommandLine(const std::vector<std::string>& argv, std::vector<OptionSpec> specs,
                                     const std::string& help, std::ostream& out, std::ostream& err,
                                     int* exit_code) {
  specs.push_back({{"-h", "--help"}, false, false});
  std::string error;
  auto args = Args::Parse(argv, specs, &error);
  if (!args) {
    err << "error: " << error << "\n\n" << help;
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  if (args->Has("help")) {
    out << help;
    *exit_code = kExitOk;
    return std::nullopt;
  }
  if (!args->positional().empty()) {
    err << "error: unexpected argument \"" << args->positional().front() << "\"\n\n" << help;
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return args;
}

}  // namespace cmesh::cli
