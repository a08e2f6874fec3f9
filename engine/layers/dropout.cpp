#include "engine/layers/dropout.h"

#include <algorithm>
#include <cmath>

namespace qat {

Expected<Shape> Dropout::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  if (!(opt_.rate >= 0 && opt_.rate < 1))
    return layerError("rate must be in [0, 1), got " + std::to_string(opt_.rate));
  return inputs[0];
}

void Dropout::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  const size_t n = x.size();
  if (!ctx.training || opt_.rate == 0) {
    std::copy_n(x.data(), n, out.data());
    return;
  }
  QAT_ASSERT(ctx.rng != nullptr);  // the trainer must supply an Rng when training
  // Keep a value when its 32-bit uniform draw u satisfies u >= rate · 2^32
  // (P(keep) = 1 − rate up to 2^-32). Each 64-bit draw serves two values.
  const double limit = std::ldexp(static_cast<double>(opt_.rate), 32);
  const uint64_t threshold = static_cast<uint64_t>(limit);
  const float keepScale = 1.0f / (1.0f - opt_.rate);
  mask_.resize(n);
  Rng& rng = *ctx.rng;
  size_t i = 0;
  for (; i + 1 < n; i += 2) {
    const uint64_t r = rng.next();
    mask_[i] = (r & 0xffffffffu) >= threshold ? keepScale : 0.0f;
    mask_[i + 1] = (r >> 32) >= threshold ? keepScale : 0.0f;
  }
  if (i < n) mask_[i] = (rng.next() & 0xffffffffu) >= threshold ? keepScale : 0.0f;
  const float* xp = x.data();
  const float* mp = mask_.data();
  float* yp = out.data();
#pragma omp parallel for simd if (n > 65536)
  for (size_t j = 0; j < n; ++j) yp[j] = xp[j] * mp[j];
}

void Dropout::backward(TensorList, const Tensor&, const Tensor& dout, GradList din,
                       const RunContext& ctx) {
  if (!din[0]) return;
  const size_t n = dout.size();
  if (!ctx.training || opt_.rate == 0) {
    std::copy_n(dout.data(), n, din[0]->data());
    return;
  }
  // dx = dy ⊙ mask: the same mask the forward applied.
  QAT_ASSERT(mask_.size() == n);
  const float* gp = dout.data();
  const float* mp = mask_.data();
  float* dp = din[0]->data();
#pragma omp parallel for simd if (n > 65536)
  for (size_t j = 0; j < n; ++j) dp[j] = gp[j] * mp[j];
}

}  // namespace qat
