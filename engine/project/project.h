#pragma once
// A QAT Studio project: one float model, the per-layer quantize config being edited, and
// every run (float baseline, post-training, QAT) with its config, metrics and model; plus
// the data-set reference and the GUI's state. One HDF5 file (".qatproj"), written to a
// temporary file and renamed into place, so a failed or interrupted save never damages
// the last saved project.
//
// File layout (all JSON attributes are UTF-8 strings):
//   /                     attr qat_project_version "1", attr project (JSON: model source
//                         and name, config, data, ui_state, next_run_id)
//   /model                uint8 dataset: the float model as a Keras .h5 file image
//                         (engine/io/keras_model.h), base weights
//   /runs/<id>            group, attr run (JSON: everything in Run but the model bytes)
//   /runs/<id>/model      uint8 dataset: the run's model as an HDF5 file image (a QAT
//                         checkpoint, engine/quant/checkpoint.h; a Keras file for a float run)
// The images are whole HDF5 files, so a run's model can be extracted and opened in Keras.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/graph/model.h"
#include "engine/quant/checkpoint.h"
#include "engine/quant/quantize_config.h"

namespace qat::project {

inline constexpr int kProjectVersion = 1;
inline constexpr const char* kProjectExtension = ".qatproj";

enum class RunKind { Float, PostTraining, Qat };
std::string_view runKindName(RunKind k);  // "float", "ptq", "qat"
std::optional<RunKind> runKindFromName(std::string_view name);

// Accuracy of a run's model on the project's test data in each evaluation mode; -1: not
// measured (e.g. no integer graph: integerError says why).
struct RunMetrics {
  double floatAccuracy = -1;      // float model, or the quantized model's float twin
  double fakeQuantAccuracy = -1;  // fake quant: what QAT trains and the studio shows
  double integerAccuracy = -1;    // frozen int8 graph in the integer interpreter (TFLite arithmetic)
  double loss = -1;               // of the fake-quant model (float run: the float model)
  size_t samples = 0;             // test samples evaluated
  std::string integerError;       // why integerAccuracy is missing, "" otherwise
  size_t weightBytes = 0;         // weights stored at the run's bit widths
  size_t floatWeightBytes = 0;    // the same weights in float32
  bool operator==(const RunMetrics&) const = default;
};

// Quantization error of one float layer's output: SQNR in dB between its float activations
// and the quantized model's (fake-quant) activations at the same point, over a sample of
// the test data. Larger is better; +inf (stored as 999) when they are identical.
struct LayerError {
  std::string layer;
  double sqnrDb = 0;
  bool operator==(const LayerError&) const = default;
};
inline constexpr double kSqnrIdentical = 999.0;

// counts[t * classes + p]: test samples of true class t predicted as p.
struct ConfusionMatrix {
  int classes = 0;
  std::vector<long> counts;
  long at(int trueClass, int predicted) const { return counts[size_t(trueClass) * size_t(classes) + size_t(predicted)]; }
  bool operator==(const ConfusionMatrix&) const = default;
};

struct Run {
  int id = 0;                      // unique in the project, never reused
  std::string name;                // user-editable ("QAT default8", "PTQ w4a8")
  RunKind kind = RunKind::Qat;
  std::string created;             // ISO 8601 UTC, "2026-11-22T10:00:00Z"
  quant::QuantizeConfig config;    // what was quantized (a float run: no layers)
  nlohmann::json settings = nlohmann::json::object();  // training set-up: epochs, batch size, lr, ...
  nlohmann::json history = nlohmann::json::array();    // per epoch: {epoch, loss, accuracy, val_loss, val_accuracy}
  RunMetrics metrics;
  std::vector<LayerError> layerErrors;  // in float-model node order
  ConfusionMatrix confusion;            // of the fake-quant model (float run: the float model)
  // The run's trained model as the bytes of an HDF5 file: a QAT checkpoint
  // (quant::saveCheckpoint) for PTQ/QAT runs, a Keras model file for a float run.
  std::vector<uint8_t> modelImage;
};

// Where the data came from, so a re-opened project can reload it. kind: "fashion-mnist",
// "idx", "npz", "hdf5", "image-folder", "csv", or "" (none). options: normalisation,
// validation split, ... as the GUI's data panel defines them.
struct DataRef {
  std::string kind;
  std::string trainPath, testPath;
  nlohmann::json options = nlohmann::json::object();
  bool operator==(const DataRef&) const = default;
};

struct Project {
  std::string modelSource;  // "builtin:fashion-cnn" or the .h5 path the model came from
  std::string modelName;    // shown in the title bar
  Model model;              // the float model, built, with its base weights
  quant::QuantizeConfig config;  // the config being edited
  std::vector<Run> runs;
  int nextRunId = 1;
  DataRef data;
  nlohmann::json uiState = nlohmann::json::object();  // opaque to the engine

  // Gives `run` the next id (and a default name "<kind> <id>" when empty), appends it
  // and returns a reference to it.
  Run& addRun(Run run);
  Run* findRun(int id);
  const Run* findRun(int id) const;
  bool removeRun(int id);
};

// Errors name the file and what is wrong (not a project, newer version, damaged run).
Status saveProject(const Project& project, const std::string& path);
Expected<Project> loadProject(const std::string& path);
// True when `path` is an HDF5 file with a qat_project_version attribute.
bool isProjectFile(const std::string& path);

// Model images: whole HDF5 files held in memory (HDF5's core driver with a file image).
Expected<std::vector<uint8_t>> checkpointImage(const quant::QuantizedModel& quantized, const Model& floatModel);
Expected<std::vector<uint8_t>> kerasModelImage(const Model& model);
Expected<quant::Checkpoint> checkpointFromImage(const std::vector<uint8_t>& image);
Expected<Model> kerasModelFromImage(const std::vector<uint8_t>& image);

// The current UTC time as ISO 8601 (Run::created).
std::string nowIso8601();

}  // namespace qat::project
