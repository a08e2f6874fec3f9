#pragma once
// Size and cost figures of a model, for the status bar, the CLI and the benchmarks.
#include <cstdint>

#include "engine/graph/model.h"

namespace qat {

// Multiply-accumulates of one forward pass for one sample. Every weight of a kernel
// (Dense, Conv2D, DepthwiseConv2D, SeparableConv2D's two kernels) is used once per
// output position, so MACs = Σ kernel size × output positions (output elements / channels).
uint64_t forwardMacsPerSample(const Model& model);

// FLOPs of one training step per sample: forward (2·MACs) plus backward, which costs
// twice the forward (input and weight gradients): 6·MACs.
inline double trainingFlopsPerSample(const Model& model) {
  return 6.0 * static_cast<double>(forwardMacsPerSample(model));
}

}  // namespace qat
