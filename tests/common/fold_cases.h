#pragma once
// The FoldedBatchNorm test fixtures: the conv kinds it folds (Conv2D with stride 1 or 2,
// DepthwiseConv2D with depth multiplier 2, Dense), each with or without bias, small random
// inputs, and folds with γ of both signs and moving statistics away from (0, 1).
#include <cmath>
#include <memory>
#include <vector>

#include "common/gradcheck.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/quant/folded_batch_norm.h"

namespace qat::test::fold {

using quant::FoldedBatchNorm;

enum Kind { kConv = 0, kDepthwise = 1, kDense = 2 };

inline std::unique_ptr<Layer> makeConv(int kind, int stride, bool bias, ActivationFn act = ActivationFn::Linear) {
  if (kind == kConv) {
    Conv2DOptions o;
    o.filters = 4;
    o.kernelH = o.kernelW = 3;
    o.strideH = o.strideW = stride;
    o.padding = stride == 1 ? Padding::Valid : Padding::Same;
    o.useBias = bias;
    o.activation = act;
    return std::make_unique<Conv2D>("conv", o);
  }
  if (kind == kDepthwise) {
    DepthwiseConv2DOptions o;
    o.kernelH = o.kernelW = 3;
    o.strideH = o.strideW = stride;
    o.depthMultiplier = 2;
    o.useBias = bias;
    o.activation = act;
    return std::make_unique<DepthwiseConv2D>("dw", o);
  }
  return std::make_unique<Dense>("dense", DenseOptions{4, bias, act});
}

inline Shape inputShape(int kind) { return kind == kDense ? Shape{5} : Shape{6, 6, 3}; }

inline Tensor randomInput(int kind, uint64_t seed) {
  Tensor x(inputShape(kind).withBatch(kind == kDense ? 6 : 2));
  Rng rng(seed);
  fillUniform(x, rng, -1.0f, 1.0f);
  for (size_t i = 0; i < x.size(); i += 3) x[i] += 0.7f;  // non-zero means
  return x;
}

// A fold over a random conv/BN: kernel in ±0.5, γ of both signs, moving statistics away
// from (0, 1).
inline std::unique_ptr<FoldedBatchNorm> makeFold(int kind, int stride, bool bias, std::unique_ptr<quant::Quantizer> q,
                                          float momentum = 0.99f, float epsilon = 1e-3f) {
  BatchNormalizationOptions bo;
  bo.momentum = momentum;
  bo.epsilon = epsilon;
  auto f = std::make_unique<FoldedBatchNorm>(makeConv(kind, stride, bias), std::make_unique<BatchNormalization>("bn", bo),
                                             std::move(q));
  if (!f->build({inputShape(kind)}).ok()) return nullptr;
  Rng rng(5);
  f->initialize(rng);
  Param* k = f->conv().params()[0];
  for (size_t i = 0; i < k->value.size(); ++i) k->value[i] = rng.uniform(-0.5f, 0.5f);
  if (bias)
    for (size_t c = 0; c < f->conv().params()[1]->value.size(); ++c) f->conv().params()[1]->value[c] = rng.uniform(-0.5f, 0.5f);
  BatchNormalization& bn = f->bn();
  for (size_t c = 0; c < bn.gamma().value.size(); ++c) {
    bn.gamma().value[c] = rng.uniform(0.5f, 1.5f) * (c % 3 == 1 ? -1.0f : 1.0f);
    bn.beta().value[c] = rng.uniform(-0.5f, 0.5f);
    bn.movingMean().value[c] = rng.uniform(-0.3f, 0.3f);
    bn.movingVariance().value[c] = rng.uniform(0.4f, 2.0f);
  }
  return f;
}

// s[c] = γ / sqrt(moving_var + ε), as the header defines it.
inline std::vector<float> foldScale(BatchNormalization& bn) {
  std::vector<float> s(bn.gamma().value.size());
  for (size_t c = 0; c < s.size(); ++c)
    s[c] = bn.gamma().value[c] * (1.0f / std::sqrt(bn.movingVariance().value[c] + bn.effectiveEpsilon()));
  return s;
}

// out[r, c] += b[c] (b = 0 when empty), c the innermost index.
inline void addPerChannel(Tensor& t, const std::vector<float>& b) {
  for (size_t i = 0; i < t.size(); ++i) t[i] += b[i % b.size()];
}

}  // namespace qat::test::fold
