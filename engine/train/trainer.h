#pragma once
// Trainer: mini-batch training of a single-input, single-output Model with callbacks
// after every batch and epoch, a cancellation flag checked every batch, and NaN/Inf
// detection. The same seed gives the same run on the same thread count.
#include <atomic>
#include <optional>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/graph/executor.h"
#include "engine/train/loss.h"
#include "engine/train/optimizer.h"

namespace qat {

struct TrainConfig {
  int epochs = 1;
  int batchSize = 64;
  uint64_t seed = 42;
  bool shuffle = true;
  float validationSplit = 0.0f;  // without a validation set: the last fraction, as Keras
  LossSpec loss;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  int topK = 0;  // also report top-k accuracy when > 1
};

struct BatchEvent {
  int epoch = 0;            // 0-based
  long step = 0;            // global 0-based step
  int batch = 0;            // 0-based within the epoch
  int batchesPerEpoch = 0;
  double loss = 0;          // this batch
  double accuracy = 0;      // this batch
  double samplesPerSec = 0; // over the epoch so far
  double etaSeconds = 0;    // rest of the run
  float learningRate = 0;
};

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  double topK = 0;   // when TrainConfig::topK > 1
  size_t samples = 0;
  double seconds = 0;
};

struct EpochEvent {
  int epoch = 0;
  double loss = 0, accuracy = 0;  // mean over the epoch's batches (training mode)
  std::optional<EvalResult> validation;
  double samplesPerSec = 0;
  double seconds = 0;
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void onBatch(const BatchEvent&) {}
  virtual void onEpoch(const EpochEvent&) {}
};

struct TrainSummary {
  std::vector<EpochEvent> epochs;
  long steps = 0;
  double seconds = 0;
  double samplesPerSec = 0;  // training throughput over the whole run
  bool cancelled = false;
};

class Trainer {
 public:
  Trainer(Model& model, TrainConfig config);

  // Errors: data that does not fit the model (shape, label range), a NaN/Inf loss (names
  // the epoch and step). On cancel, returns the summary so far with cancelled = true;
  // the model keeps the weights of the last completed step.
  Expected<TrainSummary> fit(const Dataset& train, const Dataset* validation = nullptr,
                             TrainObserver* observer = nullptr,
                             const std::atomic<bool>* cancel = nullptr);
  // Inference-mode loss and accuracy. For a quantized model, fakeQuant=false evaluates
  // its float twin (quantizers pass values through unrounded).
  Expected<EvalResult> evaluate(const Dataset& data, int batchSize = 256, bool fakeQuant = true);
  // Post-training calibration of a quantized model: up to `batches` batches of a seeded
  // shuffle of `data` run in inference mode (moving BN statistics, no dropout) while the
  // quantizers collect their ranges from the unrounded values. Returns the samples seen.
  Expected<long> calibrate(const Dataset& data, int batches);

  const TrainConfig& config() const { return config_; }

 private:
  Status checkData(const Dataset& d, const char* role) const;
  double batchLoss(const Tensor& pred, const std::vector<int>& labels, const Tensor& targets,
                   Tensor& grad);

  Model& model_;
  TrainConfig config_;
  Executor executor_;
  Tensor xBatch_, tBatch_, grad_;
  std::vector<int> yBatch_;
};

// Forward pass in inference mode over `x` (N, ...) in batches; returns (N, ...output).
// fakeQuant=false: a quantized model's float twin.
Tensor predict(Model& model, const Tensor& x, int batchSize = 256, bool fakeQuant = true);

}  // namespace qat
