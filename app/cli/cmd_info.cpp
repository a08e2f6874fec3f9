// qat-cli info: the layer table of a model. A Keras file that does not load still gets
// its table (from the model outline, engine/io/model_outline.h) with the blocking layers
// marked, followed by the error.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_source.h"
#include "reporter.h"
#include "engine/graph/model_stats.h"
#include "engine/io/model_outline.h"

namespace qat::cli {
namespace {

std::string shapeText(const std::optional<Shape>& s) {
  if (!s) return "?";
  std::string out = "(";
  for (int k = 0; k < s->rank(); ++k) out += (k ? ", " : "") + std::to_string((*s)[k]);
  return out + ")";
}

// The reason without its "Layer 'x' (Class) " head: the row already names both.
std::string shortReason(const OutlineNode& n) {
  const std::string head = "Layer '" + n.name + "' (" + n.className + ")";
  std::string r = n.reason;
  if (r.rfind(head, 0) == 0) {
    r.erase(0, head.size());
    if (r.rfind(": ", 0) == 0) r.erase(0, 2);
    else if (r.rfind(' ', 0) == 0) r.erase(0, 1);
  }
  return r;
}

nlohmann::json layersJson(const ModelOutline& o) {
  nlohmann::json layers = nlohmann::json::array();
  for (const OutlineNode& n : o.nodes) {
    nlohmann::json inputs = nlohmann::json::array();
    for (int p : n.inputs) inputs.push_back(o.nodes[static_cast<size_t>(p)].name);
    nlohmann::json l = {{"name", n.name},
                        {"class", n.className},
                        {"output_shape", n.outputShape ? nlohmann::json(n.outputShape->dims()) : nlohmann::json()},
                        {"params", n.params},
                        {"inputs", inputs},
                        {"trainable", n.trainable},
                        {"supported", n.supported}};
    if (!n.supported) l["reason"] = n.reason;
    layers.push_back(std::move(l));
  }
  return layers;
}

void printTable(const ModelOutline& o) {
  std::printf("%-28s %-24s %-18s %10s  %-6s  %s\n", "layer", "class", "output shape", "params", "train", "supported");
  for (const OutlineNode& n : o.nodes) {
    const std::string supported = n.supported ? "yes" : "NO: " + shortReason(n);
    std::printf("%-28s %-24s %-18s %10llu  %-6s  %s\n", n.name.c_str(), n.className.c_str(),
                shapeText(n.outputShape).c_str(), static_cast<unsigned long long>(n.params),
                n.trainable ? "yes" : "frozen", supported.c_str());
  }
}

}  // namespace

int runInfo(int argc, char** argv, int first) {
  Args a("info",
         "Prints the layer table of a model (name, class, output shape, parameters, whether the\n"
         "layer is trainable and supported). A model that cannot be opened exits with status 1:\n"
         "the table (where the file can be read) marks the layers that block it, and why.\n"
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
  const std::string spec = a.positional()[0];
  std::vector<std::string> warnings;
  auto model = loadModelArg(spec, "42", a.get("architecture"), &warnings);
  if (!model.ok()) {
    const std::string& error = model.error().message;
    if (spec.rfind("builtin:", 0) == 0) return rep.fail(error);
    auto outline = outlineKerasFile(spec, a.get("architecture"));
    if (!outline.ok()) return rep.fail(error);  // not even readable: the loader's message says why
    if (rep.json()) {
      rep.summary({{"model", outline->name},
                   {"layers", layersJson(*outline)},
                   {"params", outline->paramCount()},
                   {"warnings", outline->warnings},
                   {"error", error}});
      return kExitFailure;
    }
    printTable(*outline);
    const size_t blocked = outline->problems().size();
    std::printf("\n%zu layers, %llu parameters; %zu layer%s not supported\n", outline->nodes.size(),
                static_cast<unsigned long long>(outline->paramCount()), blocked, blocked == 1 ? " is" : "s are");
    std::fflush(stdout);
    return rep.fail(error);
  }

  const ModelOutline outline = outlineOf(*model);
  const uint64_t macs = forwardMacsPerSample(*model);
  if (rep.json()) {
    rep.summary({{"model", model->name},
                 {"layers", layersJson(outline)},
                 {"params", model->paramCount()},
                 {"macs_per_sample", macs},
                 {"warnings", warnings}});
    return kExitOk;
  }
  printTable(outline);
  std::printf("\n%d layers, %zu parameters, %.2f M multiply-accumulates per sample\n", model->size(),
              model->paramCount(), static_cast<double>(macs) / 1e6);
  for (const auto& w : warnings) std::printf("warning: %s\n", w.c_str());
  return kExitOk;
}

}  // namespace qat::cli
