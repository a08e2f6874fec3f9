#pragma once
// Classification metrics over a batch of predictions (N, classes) and integer labels.
#include <vector>

#include "engine/core/tensor.h"

namespace qat {

// Number of rows whose label is among the k highest predictions (k = 1: accuracy).
// Ties are broken toward the lower class index, like argmax. A single-column
// prediction is treated as binary: class 1 when the value > 0.5.
int countTopK(const Tensor& pred, const std::vector<int>& labels, int k = 1);
int argmaxRow(const float* row, int classes);

}  // namespace qat
