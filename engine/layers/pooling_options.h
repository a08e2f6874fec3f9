#pragma once
// Options shared by the pooling layers (MaxPooling2D / AveragePooling2D, and the two
// global poolings), and the per-sample window geometry both windowed poolings resolve.
#include <string>

#include "engine/kernels/pool2d.h"
#include "engine/layers/padding.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

struct Pooling2DOptions {
  int poolH = 2, poolW = 2;
  int strideH = 0, strideW = 0;  // 0: the pool size (Keras strides=None)
  Padding padding = Padding::Valid;
};

struct GlobalPooling2DOptions {
  bool keepDims = false;  // (1, 1, C) instead of (C) per sample
};

// Per-sample (N = 0) geometry for a (H, W, C) input, or what is wrong with the config.
inline std::string poolGeometry(const Pooling2DOptions& o, const Shape& in, PoolGeometry& g) {
  const int sh = o.strideH == 0 ? o.poolH : o.strideH;
  const int sw = o.strideW == 0 ? o.poolW : o.strideW;
  if (auto p = windowProblem("pool_size", o.poolH, o.poolW, sh, sw); !p.empty()) return p;
  g = PoolGeometry{};
  g.H = in[0];
  g.W = in[1];
  g.C = in[2];
  g.KH = o.poolH;
  g.KW = o.poolW;
  g.strideH = sh;
  g.strideW = sw;
  g.setPadding(o.padding);
  return windowFitProblem("pool window", in, g.KH, g.KW, 1, 1, g.OH, g.OW);
}

}  // namespace qat
