#include "engine/layers/multiply.h"

#include <algorithm>

#include "engine/layers/merge_shapes.h"

namespace qat {

Expected<Shape> Multiply::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() < 2) return layerError("needs at least two inputs");
  if (auto e = sameShapeError(inputs); !e.empty()) return layerError(e);
  return inputs[0];
}

void Multiply::forward(TensorList in, Tensor& out, const RunContext&) {
  out.resize(in[0]->shape());  // (N, ...)
  const size_t n = out.size();
  float* y = out.data();
  std::copy_n(in[0]->data(), n, y);
  for (size_t k = 1; k < in.size(); ++k) {
    const float* x = in[k]->data();
#pragma omp parallel for simd if (n > 65536)
    for (size_t i = 0; i < n; ++i) y[i] *= x[i];
  }
}

void Multiply::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                        const RunContext&) {
  // dxk = dy ⊙ Π_{j≠k} xj. The product of the others is rebuilt per input rather than
  // taken as y / xk, which would fail wherever xk == 0. Merges have few inputs.
  const size_t n = dout.size();
  const float* g = dout.data();
  for (size_t k = 0; k < in.size(); ++k) {
    if (!din[k]) continue;
    float* d = din[k]->data();
    std::copy_n(g, n, d);
    for (size_t j = 0; j < in.size(); ++j) {
      if (j == k) continue;
      const float* x = in[j]->data();
#pragma omp parallel for simd if (n > 65536)
      for (size_t i = 0; i < n; ++i) d[i] *= x[i];
    }
  }
}

}  // namespace qat
