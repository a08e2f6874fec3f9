#include "engine/layers/subtract.h"

#include <algorithm>

#include "engine/layers/merge_shapes.h"

namespace qat {

Expected<Shape> Subtract::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 2)
    return layerError("takes exactly two inputs, got " + std::to_string(inputs.size()));
  if (auto e = sameShapeError(inputs); !e.empty()) return layerError(e);
  return inputs[0];
}

void Subtract::forward(TensorList in, Tensor& out, const RunContext&) {
  out.resize(in[0]->shape());  // (N, ...)
  const size_t n = out.size();
  const float* a = in[0]->data();
  const float* b = in[1]->data();
  float* y = out.data();
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) y[i] = a[i] - b[i];
}

void Subtract::backward(TensorList, const Tensor&, const Tensor& dout, GradList din,
                        const RunContext&) {
  // dx0 = dy, dx1 = −dy
  const size_t n = dout.size();
  const float* g = dout.data();
  if (din[0]) std::copy_n(g, n, din[0]->data());
  if (din[1]) {
    float* d = din[1]->data();
#pragma omp parallel for simd if (n > 65536)
    for (size_t i = 0; i < n; ++i) d[i] = -g[i];
  }
}

}  // namespace qat
