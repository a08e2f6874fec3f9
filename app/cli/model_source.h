#pragma once
// Model and data arguments shared by the qat-cli commands.
#include <optional>
#include <string>

#include "args.h"
#include "engine/data/dataset.h"
#include "engine/graph/model.h"

namespace qat::cli {

std::string builtinNamesList();  // "fashion-mlp, fashion-cnn"
// "builtin:NAME" or a model file.
Expected<Model> loadModelArg(const std::string& spec, const std::string& seed);
Status saveModelArg(Model& model, const std::string& path);

struct LoadedData {
  Dataset train;
  std::optional<Dataset> test;
};
std::string dataSpecHelp();
// --data / --test-data / --x-name / --y-name / --label-column / --normalize; images are
// resized to the model's input.
Expected<LoadedData> loadDataArgs(const Args& a, const Model& model);

}  // namespace qat::cli
