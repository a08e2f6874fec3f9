#include "engine/layers/relu.h"

#include <limits>

namespace qat {
namespace {
constexpr size_t kParallelMin = 1 << 16;  // below this, threads cost more than they save
}

Expected<Shape> ReLU::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  if (opt_.negativeSlope < 0) return layerError("negative_slope must be >= 0");
  if (opt_.maxValue && *opt_.maxValue > 0 && *opt_.maxValue < opt_.threshold)
    return layerError("max_value must not be below threshold");
  return inputs[0];
}

void ReLU::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  const float hi = (opt_.maxValue && *opt_.maxValue > 0) ? *opt_.maxValue
                                                         : std::numeric_limits<float>::infinity();
  const float th = opt_.threshold, slope = opt_.negativeSlope;
  const float* xp = x.data();
  float* yp = out.data();
  const size_t n = x.size();
#pragma omp parallel for simd if (n > kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    const float v = xp[i];
    yp[i] = v >= hi ? hi : (v >= th ? v : slope * (v - th));
  }
}

void ReLU::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                    const RunContext&) {
  if (!din[0]) return;
  // f'(x) = 0 above max_value, 1 on [threshold, max_value), negative_slope below threshold.
  const float hi = (opt_.maxValue && *opt_.maxValue > 0) ? *opt_.maxValue
                                                         : std::numeric_limits<float>::infinity();
  const float th = opt_.threshold, slope = opt_.negativeSlope;
  const float* xp = in[0]->data();
  const float* dy = dout.data();
  float* dx = din[0]->data();
  const size_t n = dout.size();
#pragma omp parallel for simd if (n > kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    const float v = xp[i];
    dx[i] = dy[i] * (v >= hi ? 0.0f : (v >= th ? 1.0f : slope));
  }
}

}  // namespace qat
