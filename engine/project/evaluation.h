#pragma once
// Evaluation of a run's model in the studio's three modes (float, fake quant, integer),
// plus the analyses the compare view and the graph colouring need: confusion matrix and
// per-layer quantization error (SQNR). Used by the studio's Evaluate action and by
// `qat-cli quantize --project`, so both report the same numbers.
#include <optional>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/graph/model.h"
#include "engine/project/project.h"
#include "engine/quant/quantize_model.h"
#include "engine/train/loss.h"

namespace qat::project {

struct EvaluationOptions {
  size_t maxSamples = 0;             // of the test data (0: all)
  int batchSize = 256;
  bool integer = true;               // also freeze to the int8 graph and run the interpreter
  bool layerErrors = true;           // per-layer SQNR
  size_t layerErrorSamples = 256;    // test samples for the SQNR
  // Samples for the ranges of layers the export needs but QAT did not quantize (e.g. a
  // standalone softmax input), as deploy::FreezeOptions::rangeSamples. Null: the first
  // 256 test samples.
  const Tensor* rangeSamples = nullptr;
};

struct Evaluation {
  RunMetrics metrics;
  ConfusionMatrix confusion;
  std::vector<LayerError> layerErrors;
};

// A float model: float accuracy/loss and confusion; no quantized modes, no layer errors.
Expected<Evaluation> evaluateFloat(Model& model, const LossSpec& loss, const Dataset& test,
                                   const EvaluationOptions& options = {});
// A quantized model: float twin, fake quant (loss, confusion), integer (unless the export
// cannot express the model: metrics.integerError says why), layer errors against
// `floatModel` (the float architecture quantizeModel was given, with the same weights as
// the quantized model: copyFloatWeights) and the weight sizes (quant::summarize).
Expected<Evaluation> evaluateQuantized(quant::QuantizedModel& quantized, const Model& floatModel,
                                       const LossSpec& loss, const Dataset& test,
                                       const EvaluationOptions& options = {});

// SQNR of each float layer's output (node order, inputs excluded) between `floatModel`
// and the fake-quant `quantized` model on the samples x (N, ...). Layers whose output the
// quantized model does not reproduce (nodeOf = -1) are left out.
Expected<std::vector<LayerError>> layerSqnr(Model& floatModel, quant::QuantizedModel& quantized, const Tensor& x);

// Confusion matrix of predictions (N, classes) against labels.
ConfusionMatrix confusionMatrix(const Tensor& predictions, const std::vector<int>& labels);

}  // namespace qat::project
