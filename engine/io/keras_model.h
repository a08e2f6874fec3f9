#pragma once
// Keras HDF5 model files (.h5 / .hdf5, as written by model.save('m.h5') in Keras 1.2,
// 2.x / tf.keras and Keras 3's legacy H5 format): load into a qat::Model, save back.
//
// Loading
//   architecture: root attribute `model_config` (JSON), or a separate model.to_json()
//     file for weights-only files (save_weights); see keras_graph.h for the formats.
//   weights: group `model_weights` (or the root of a weights-only file), one group per
//     top-level layer whose attribute `weight_names` gives the dataset paths in Keras
//     weight order. Weights are always resolved through weight_names, never by guessing
//     from dataset names; every shape is checked against the layer's parameter.
//   Errors name the file, the layer and class (or HDF5 object) and what to do.
//
// Saving writes a Keras 2 style file tf.keras.models.load_model accepts: root attrs
// model_config (Sequential for a chain, else Functional), keras_version "2.13.1",
// backend "tensorflow"; model_weights with layer_names / backend / keras_version and a
// group per layer holding "<layer>/<param>:0" datasets (BatchNorm moving statistics
// included). The file is written to a temporary name in the same directory and renamed
// over the target, so a failure never destroys an existing file. No training_config is
// written (Keras then loads the model uncompiled).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph/model.h"

namespace qat {

namespace h5 {
class File;  // engine/io/hdf5_util.h
}

// What `training_config` says about how the model was compiled. Names are Keras'
// snake_case function names ("categorical_crossentropy", "adam"), whether the file
// stored a function name, an alias ("mse") or a serialised class (CategoricalCrossentropy).
struct TrainingConfigInfo {
  std::string loss;               // "" when not given or per-output (several losses)
  bool fromLogits = false;        // from a serialised loss object's config
  std::string optimizer;          // "adam", "sgd", "rmsprop", ...
  std::optional<double> learningRate;          // "learning_rate" or Keras 1/2 "lr"; unset for schedules
  std::map<std::string, double> optimizerParams;  // other numeric optimizer settings (beta_1, momentum ...)
  std::vector<std::string> metrics;            // "accuracy", "categorical_accuracy", ...
};

struct KerasFile {
  Model model;                              // built, weights loaded
  std::optional<TrainingConfigInfo> training;
  std::string kerasVersion;                 // root attribute keras_version ("" if absent)
  std::string backend;                      // root attribute backend ("" in Keras 1 files)
  // Things the engine does not reproduce (regularizers, constraints, renamed layers
  // of nested models, ...), one sentence each, for the user to see.
  std::vector<std::string> warnings;
};

// architectureJsonPath: a model.to_json() file; required for weights-only files, and
// when given it overrides the file's own model_config.
Expected<KerasFile> loadKerasFile(const std::string& h5Path, const std::string& architectureJsonPath = "");
Expected<Model> loadKerasModel(const std::string& h5Path, const std::string& architectureJsonPath = "");

// What an .h5 file holds, from its root attributes alone: a whole model (model_config),
// only weights (model.save_weights: the architecture JSON is needed to load it), or
// anything else (not HDF5, not Keras, damaged). For the GUI, which asks for the JSON.
enum class KerasFileKind { FullModel, WeightsOnly, Other };
KerasFileKind kerasFileKind(const std::string& h5Path);

// The model must be built (Model::build) so parameter shapes are known.
Status saveKerasModel(const Model& model, const std::string& h5Path);

// The same on an open HDF5 file, on disk or in memory (h5::File::openImage /
// createInMemory: a model kept inside a project file); messages name file.path().
// readKerasFile does not run the isolation probe loadKerasFile does: callers reading
// untrusted bytes probe first (process_guard.h). writeKerasModel writes into an empty file.
Expected<KerasFile> readKerasFile(const h5::File& file, const std::string& architectureJsonPath = "");
Status writeKerasModel(const Model& model, const h5::File& file);

// Parses a training_config JSON text (exposed for tests and other importers).
Expected<TrainingConfigInfo> parseKerasTrainingConfig(const std::string& json);

}  // namespace qat
