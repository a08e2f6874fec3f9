#include "engine/layers/rescaling.h"

#include <cmath>

namespace qat {

Expected<Shape> Rescaling::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  if (!std::isfinite(opt_.scale) || !std::isfinite(opt_.offset))
    return layerError("scale and offset must be finite");
  return inputs[0];
}

void Rescaling::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  const float s = opt_.scale, o = opt_.offset;
  const float* xp = x.data();
  float* yp = out.data();
  const size_t n = x.size();
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) yp[i] = xp[i] * s + o;
}

void Rescaling::backward(TensorList, const Tensor&, const Tensor& dout, GradList din,
                         const RunContext&) {
  if (!din[0]) return;
  // dx = scale · dy
  const float s = opt_.scale;
  const float* gp = dout.data();
  float* dp = din[0]->data();
  const size_t n = dout.size();
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) dp[i] = gp[i] * s;
}

}  // namespace qat
