// qat-cli info: the layer table of a model.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_source.h"
#include "reporter.h"
#include "engine/graph/model_stats.h"

namespace qat::cli {

int runInfo(int argc, char** argv, int first) {
  Args a("info",
         "Prints the layer table of a model (name, class, output shape, parameters). A model\n"
         "that cannot be opened exits with status 1 and says which layer blocks it and why.\n"
         "usage: qat-cli info MODEL [--architecture model.json] [--json]",
         {architectureOption(), {"json", "", "print the table as one JSON object", ""}});
  if (auto e = a.parse(argc, argv, first)) {
    std::cerr << "qat-cli info: " << *e << "\n";
    return kExitUsage;
  }
  if (a.has("help")) {
    std::cout << a.help();
    return kExitOk;
  }
  if (a.positional().size() != 1) {
    std::cerr << "qat-cli info: give exactly one model (a .h5 file or builtin:NAME)\n";
    return kExitUsage;
  }
  Reporter rep(a.has("json"));
  std::vector<std::string> warnings;
  auto model = loadModelArg(a.positional()[0], "42", a.get("architecture"), &warnings);
  if (!model.ok()) return rep.fail(model.error().message);

  nlohmann::json layers = nlohmann::json::array();
  for (int i = 0; i < model->size(); ++i) {
    const Node& n = model->node(i);
    size_t params = 0;
    for (const Param* p : std::as_const(*n.layer).params()) params += p->value.size();
    nlohmann::json inputs = nlohmann::json::array();
    for (int p : n.inputs) inputs.push_back(model->node(p).layer->name());
    layers.push_back({{"name", n.layer->name()},
                      {"class", std::string(opTypeName(n.layer->op()))},
                      {"output_shape", n.shape.dims()},
                      {"params", params},
                      {"inputs", inputs}});
  }
  const uint64_t macs = forwardMacsPerSample(*model);
  if (rep.json()) {
    rep.summary({{"model", model->name},
                 {"layers", layers},
                 {"params", model->paramCount()},
                 {"macs_per_sample", macs},
                 {"warnings", warnings}});
    return kExitOk;
  }
  std::printf("%-28s %-24s %-18s %10s\n", "layer", "class", "output shape", "params");
  for (const auto& l : layers) {
    std::string shape = "(";
    for (size_t k = 0; k < l["output_shape"].size(); ++k)
      shape += (k ? ", " : "") + std::to_string(l["output_shape"][k].get<int>());
    shape += ")";
    std::printf("%-28s %-24s %-18s %10zu\n", l["name"].get<std::string>().c_str(),
                l["class"].get<std::string>().c_str(), shape.c_str(), l["params"].get<size_t>());
  }
  std::printf("\n%d layers, %zu parameters, %.2f M multiply-accumulates per sample\n", model->size(),
              model->paramCount(), static_cast<double>(macs) / 1e6);
  for (const auto& w : warnings) std::printf("warning: %s\n", w.c_str());
  return kExitOk;
}

}  // namespace qat::cli
