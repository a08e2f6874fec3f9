#pragma once
// Losses. Each returns the mean loss over the batch and writes dLoss/dPrediction
// (already divided by the batch size) into `grad`, shaped like the prediction.
//
// Cross-entropy from probabilities clamps p to [1e-7, 1 − 1e-7] like Keras (so a loss
// never exceeds −log 1e-7 ≈ 16.1); from logits it uses log-softmax / log-sigmoid, which
// never overflows.
#include <optional>
#include <string_view>
#include <vector>

#include "engine/core/tensor.h"

namespace qat {

enum class LossKind {
  SparseCategoricalCrossentropy,  // integer labels, predictions (N, classes)
  CategoricalCrossentropy,        // one-hot targets (N, classes)
  BinaryCrossentropy,             // targets in [0, 1], predictions (N, k)
  MeanSquaredError,               // float targets shaped like predictions
};

struct LossSpec {
  LossKind kind = LossKind::SparseCategoricalCrossentropy;
  bool fromLogits = false;
};

std::string_view lossName(LossKind k);                       // Keras name
std::optional<LossKind> lossFromName(std::string_view name);  // also "sparse_categorical_crossentropy"

// labels: used by the sparse loss (one per row). targets: used by the others.
double computeLoss(const LossSpec& spec, const Tensor& pred, const std::vector<int>& labels,
                   const Tensor& targets, Tensor& grad);

}  // namespace qat
