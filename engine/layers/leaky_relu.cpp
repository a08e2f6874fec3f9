#include "engine/layers/leaky_relu.h"

namespace qat {
namespace {
constexpr size_t kParallelMin = 1 << 16;  // below this, threads cost more than they save
}

Expected<Shape> LeakyReLU::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  return inputs[0];
}

void LeakyReLU::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  const float a = opt_.alpha;
  const float* xp = x.data();
  float* yp = out.data();
  const size_t n = x.size();
#pragma omp parallel for simd if (n > kParallelMin)
  for (size_t i = 0; i < n; ++i) yp[i] = xp[i] > 0 ? xp[i] : a * xp[i];
}

void LeakyReLU::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                         const RunContext&) {
  if (!din[0]) return;
  // f'(x) = 1 for x > 0, alpha otherwise.
  const float a = opt_.alpha;
  const float* xp = in[0]->data();
  const float* dy = dout.data();
  float* dx = din[0]->data();
  const size_t n = dout.size();
#pragma omp parallel for simd if (n > kParallelMin)
  for (size_t i = 0; i < n; ++i) dx[i] = xp[i] > 0 ? dy[i] : a * dy[i];
}

}  // namespace qat
