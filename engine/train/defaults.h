#pragma once
// Training defaults derived from a model: which loss fits its output layer.
#include "engine/graph/model.h"
#include "engine/train/loss.h"

namespace qat {

// Softmax output (Softmax layer, Activation softmax, or a softmax in-layer activation):
// categorical cross-entropy on probabilities. One sigmoid unit: binary cross-entropy.
// Anything else: sparse categorical cross-entropy from logits.
LossSpec defaultLossFor(const Model& model);

}  // namespace qat
