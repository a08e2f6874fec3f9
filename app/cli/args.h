#pragma once
// A small command-line parser: `--name value`, `--name=value` and boolean `--flag`.
// Every option is declared with its help text, so --help documents all of them and an
// unknown option is a usage error (exit code 2).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qat::cli {

struct OptionSpec {
  std::string name;   // without the leading dashes
  std::string value;  // value placeholder shown in help ("N", "FILE"); empty for flags
  std::string help;
  std::string defaultValue;
};

class Args {
 public:
  Args(std::string command, std::string summary, std::vector<OptionSpec> options);
  // Returns an error message on bad usage.
  std::optional<std::string> parse(int argc, char** argv, int first);
  std::string help() const;

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name) const;  // value or the declared default
  // Numeric accessors; set `error` on a bad number.
  long getInt(const std::string& name, std::string& error) const;
  double getDouble(const std::string& name, std::string& error) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const OptionSpec* find(const std::string& name) const;
  std::string command_, summary_;
  std::vector<OptionSpec> options_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace qat::cli
