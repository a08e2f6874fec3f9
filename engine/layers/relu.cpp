#include "engine/layers/relu.h"

#include <cmath>
#include <limits>

#include "engine/kernels/elementwise.h"

namespace qat {

Expected<Shape> ReLU::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  if (opt_.negativeSlope < 0) return layerError("negative_slope must be >= 0");
  if (opt_.maxValue && *opt_.maxValue > 0 && *opt_.maxValue < opt_.threshold)
    return layerError("max_value must not be below threshold");
  return inputs[0];
}

// Upper bound: max_value, or +inf when there is none (min(x, inf) = x).
static float upperBound(const ReLUOptions& o) {
  return (o.maxValue && *o.maxValue > 0) ? *o.maxValue : std::numeric_limits<float>::infinity();
}

void ReLU::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  const float hi = upperBound(opt_), th = opt_.threshold, slope = opt_.negativeSlope;
  if (th == 0) {
    // max(x, 0) + slope · min(x, 0) is x above 0 and slope · x below, select-free.
    kern::mapArray(x.data(), out.data(), x.size(), [&](auto v, auto y) {
      y = (v.max(0.0f) + slope * v.min(0.0f)).min(hi);
    });
  } else {
    kern::mapArray(x.data(), out.data(), x.size(), [&](auto v, auto y) {
      y = (v >= th).select(v, slope * (v - th)).min(hi);
    });
  }
}

void ReLU::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                    const RunContext&) {
  if (!din[0]) return;
  // f'(x) = 0 at and above max_value, 1 on (threshold, max_value), negative_slope below.
  // At the kinks themselves we take the lower side, like TensorFlow's ReluGrad (x > 0).
  const float hi = upperBound(opt_), th = opt_.threshold, slope = opt_.negativeSlope;
  // Written as a sum of selects with a constant 0 branch: those compile to SIMD masks,
  // while select(g, slope·g) or nested selects stay scalar and branchy.
  if (std::isinf(hi)) {
    kern::mapArray2(in[0]->data(), dout.data(), din[0]->data(), dout.size(),
                    [&](auto v, auto g, auto d) {
                      d = (v > th).select(g, 0.0f) + slope * (v <= th).select(g, 0.0f);
                    });
  } else {
    kern::mapArray2(in[0]->data(), dout.data(), din[0]->data(), dout.size(),
                    [&](auto v, auto g, auto d) {
                      d = (v > th && v < hi).select(g, 0.0f) + slope * (v <= th).select(g, 0.0f);
                    });
  }
}

}  // namespace qat
