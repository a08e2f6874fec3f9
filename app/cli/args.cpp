#include "args.h"

#include <cstdlib>

namespace qat::cli {

Args::Args(std::string command, std::string summary, std::vector<OptionSpec> options)
    : command_(std::move(command)), summary_(std::move(summary)), options_(std::move(options)) {
  options_.push_back({"help", "", "show this help and exit", ""});
}

const OptionSpec* Args::find(const std::string& name) const {
  for (const auto& o : options_)
    if (o.name == name) return &o;
  return nullptr;
}

std::optional<std::string> Args::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inlineValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inlineValue = true;
    }
    const OptionSpec* spec = find(name);
    if (!spec) return "unknown option --" + name + " (see qat-cli " + command_ + " --help)";
    if (spec->value.empty()) {
      if (inlineValue) return "option --" + name + " takes no value";
      values_.insert_or_assign(name, std::string(1, '1'));  // (not = "1": GCC 12 -Wrestrict false positive)
      continue;
    }
    if (!inlineValue) {
      if (i + 1 >= argc) return "option --" + name + " needs a value (" + spec->value + ")";
      value = argv[++i];
    }
    values_[name] = value;
  }
  return std::nullopt;
}

std::string Args::get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  const OptionSpec* spec = find(name);
  return spec ? spec->defaultValue : std::string();
}

long Args::getInt(const std::string& name, std::string& error) const {
  const std::string v = get(name);
  char* end = nullptr;
  long r = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0') error = "option --" + name + " needs a whole number, got '" + v + "'";
  return r;
}

double Args::getDouble(const std::string& name, std::string& error) const {
  const std::string v = get(name);
  char* end = nullptr;
  double r = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') error = "option --" + name + " needs a number, got '" + v + "'";
  return r;
}

std::string Args::help() const {
  std::string h = "usage: qat-cli " + command_ + " [options]\n\n" + summary_ + "\n\noptions:\n";
  for (const auto& o : options_) {
    std::string left = "  --" + o.name + (o.value.empty() ? "" : " " + o.value);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "\n" + std::string(28, ' ');
    h += left + o.help;
    if (!o.defaultValue.empty()) h += " (default: " + o.defaultValue + ")";
    h += "\n";
  }
  return h;
}

}  // namespace qat::cli
