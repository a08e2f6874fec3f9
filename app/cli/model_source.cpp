#include "model_source.h"

#include <cstdlib>

#include "engine/data/data_source.h"
#include "engine/io/keras_model.h"
#include "engine/models/builtin.h"

namespace qat::cli {

std::string builtinNamesList() {
  std::string s;
  for (const auto& n : builtinModelNames()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

Expected<Model> loadModelArg(const std::string& spec, const std::string& seed,
                             const std::string& architecture, std::vector<std::string>* warnings,
                             std::optional<TrainingConfigInfo>* training) {
  if (spec.rfind("builtin:", 0) == 0)
    return makeBuiltinModel(spec.substr(8), std::strtoull(seed.c_str(), nullptr, 10));
  auto file = loadKerasFile(spec, architecture);
  if (!file.ok()) return file.error();
  if (warnings) *warnings = file->warnings;
  if (training) *training = file->training;
  return std::move(file->model);
}

OptionSpec architectureOption() {
  return {"architecture", "JSON",
          "architecture (model.to_json()) for a weights-only .h5 saved with save_weights", ""};
}

Status saveModelArg(Model& model, const std::string& path) { return saveKerasModel(model, path); }

std::string dataSpecHelp() { return "data set: " + dataSourceHelp(); }

Expected<LoadedData> loadDataArgs(const Args& a, const Model& model) {
  DataSourceOptions o;
  o.xName = a.get("x-name");
  o.yName = a.get("y-name");
  o.labelColumn = a.get("label-column");
  o.normalize = a.get("normalize");
  if (!model.inputs().empty()) o.inputShape = model.node(model.inputs()[0]).shape;
  auto d = loadDataSource(a.get("data"), o);
  if (!d.ok()) return d.error();
  LoadedData out{std::move(d->train), std::move(d->test)};
  if (a.has("test-data")) {
    auto t = loadDataSource(a.get("test-data"), o);
    if (!t.ok()) return t.error();
    out.test = std::move(t->train);
  }
  return out;
}

}  // namespace qat::cli
