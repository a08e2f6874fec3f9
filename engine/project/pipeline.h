#pragma once
// executeRun: one complete run of the studio's pipeline, the same for the GUI's Run menu
// and the CLI: (float training | quantize → calibrate → QAT) → evaluate in every mode →
// a project::Run with metrics, per-layer errors, confusion matrix and the model image.
// Runs on the caller's thread (the GUI calls it from its worker); progress goes to the
// TrainObserver, cancellation through the flag (a stopped run still evaluates and
// returns the model it reached: "stop keeps the last weights").
#include <atomic>
#include <optional>
#include <string>

#include "engine/data/dataset.h"
#include "engine/graph/model.h"
#include "engine/project/evaluation.h"
#include "engine/project/project.h"
#include "engine/train/trainer.h"

namespace qat::project {

struct RunRequest {
  RunKind kind = RunKind::Qat;
  std::string name;               // "" → Project::addRun's default
  quant::QuantizeConfig config;   // PostTraining / Qat
  TrainConfig train;              // Float / Qat: epochs, batch size, optimizer, loss, seed
  int calibrationBatches = 32;    // PostTraining / Qat: batches before training (0: none)
  EvaluationOptions evaluation;
  nlohmann::json settings = nlohmann::json::object();  // stored in Run::settings as given
};

struct RunResult {
  Run run;                          // id unset: give it to Project::addRun
  TrainSummary training;            // empty for PostTraining
  bool cancelled = false;
  // A Float run's trained model (the new base weights); a PostTraining / Qat run's
  // trained float weights live in run.modelImage (a checkpoint).
  std::optional<Model> trainedFloat;
};

// floatModel: the project's float model (not changed: the run works on copies).
// train: training / calibration data; test: evaluation data (may be null: no metrics).
// Errors: the config does not apply, the data does not fit, a NaN loss (names the step).
Expected<RunResult> executeRun(const Model& floatModel, const RunRequest& request, const Dataset& train,
                               const Dataset* test, TrainObserver* observer = nullptr,
                               const std::atomic<bool>* cancel = nullptr);

// Per-epoch history as a project stores it (Run::history) and the compare view plots it:
// {epoch (1-based), loss, accuracy, samples_per_sec, seconds[, val_loss, val_accuracy]}.
nlohmann::json historyOf(const TrainSummary& training);

// Re-evaluates a stored run's model image (e.g. after the test data changed): fills
// run.metrics, confusion and layerErrors (the image carries its own architecture).
Status reevaluateRun(Run& run, const LossSpec& loss, const Dataset& test, const EvaluationOptions& options = {});

}  // namespace qat::project
