#pragma once
// Options shared by the 1-D pooling layers (MaxPooling1D / AveragePooling1D and the two
// global poolings over steps), and the per-sample geometry of the windowed ones: a
// (L, C) sequence is pooled as a (1, L, C) image by the 2-D kernels of
// engine/kernels/pool2d.h (pool window 1 x pool_size), so the TF padding rules are the
// same ones.
#include <string>

#include "engine/kernels/pool2d.h"
#include "engine/layers/padding.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

struct Pooling1DOptions {
  int poolSize = 2;
  int stride = 0;  // 0: the pool size (Keras strides=None)
  Padding padding = Padding::Valid;
};

struct GlobalPooling1DOptions {
  bool keepDims = false;  // (1, C) instead of (C) per sample
};

// One (steps, channels) input per sample.
inline std::string sequenceInputProblem(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return "takes exactly one input";
  const Shape& s = inputs[0];
  if (s.rank() != 2) return cat("needs a per-sample input of rank 2 (steps, channels), got ", s.str());
  if (s[0] <= 0 || s[1] <= 0) return cat("input dimensions must be positive, got ", s.str());
  return {};
}

// Per-sample (N = 0) geometry for a (L, C) input, or what is wrong with the config.
inline std::string pool1dGeometry(const Pooling1DOptions& o, const Shape& in, PoolGeometry& g) {
  const int s = o.stride == 0 ? o.poolSize : o.stride;
  if (o.poolSize <= 0) return cat("pool_size must be positive, got ", std::to_string(o.poolSize));
  if (s <= 0) return cat("strides must be positive, got ", std::to_string(s));
  g = PoolGeometry{};
  g.H = 1;
  g.W = in[0];
  g.C = in[1];
  g.KW = o.poolSize;
  g.strideW = s;
  g.setPadding(o.padding);
  if (g.OW <= 0)
    return cat("pool window ", std::to_string(o.poolSize), " is longer than the input sequence (",
               std::to_string(in[0]), " steps) with 'valid' padding");
  return {};
}

}  // namespace qat
