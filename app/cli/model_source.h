#pragma once
// Model and data arguments shared by the qat-cli commands.
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "engine/data/dataset.h"
#include "engine/graph/model.h"
#include "engine/io/keras_model.h"

namespace qat::cli {

std::string builtinNamesList();  // "fashion-mlp, fashion-cnn"
// "builtin:NAME" or a Keras .h5 file (with its architecture JSON for weights-only files).
// `warnings` receives what the import could not reproduce (may be null).
Expected<Model> loadModelArg(const std::string& spec, const std::string& seed,
                             const std::string& architecture = "",
                             std::vector<std::string>* warnings = nullptr,
                             std::optional<TrainingConfigInfo>* training = nullptr);
// The option every model-taking command shares.
OptionSpec architectureOption();
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
