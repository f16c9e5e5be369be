// A tiny command-line parser: options with values (repeatable or not), boolean flags, and a
// usage error message instead of exceptions.
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::cli {

struct OptionSpec {
  std::vector<std::string> names;  // e.g. {"-f", "--file"}; the first long name is the key
  bool takes_value = true;
  bool repeatable = false;
};

class Args {
 public:
  // Parses `argv` (the command's own arguments, without the program and command names).
  // Accepts "--name value", "--name=value", "-f value". On failure returns nullopt and sets *error.
  static std::optional<Args> Parse(const std::vector<std::string>& argv,
                                   const std::vector<OptionSpec>& specs, std::string* error);

  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  std::string Get(const std::string& key, const std::string& fallback = "") const;
  const std::vector<std::string>& All(const std::string& key) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// Parses a subcommand's arguments and does what every command does alike: a usage error prints the
// message and `help` on `err`, -h/--help (added to `specs` here) prints `help` on `out`, and a
// positional argument is a usage error. Returns nullopt with *exit_code set when the command should
// stop there.
std::optional<Args> ParseCommandLine(const std::vector<std::string>& argv, std::vector<OptionSpec> specs,
                                     const std::string& help, std::ostream& out, std::ostream& err,
                                     int* exit_code);

}  // namespace cmesh::cli
