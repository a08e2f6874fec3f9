#include "engine/layers/zero_padding2d.h"

#include <algorithm>

#include "engine/layers/spatial_checks.h"

namespace qat {

Expected<Shape> ZeroPadding2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (opt_.top < 0 || opt_.bottom < 0 || opt_.left < 0 || opt_.right < 0)
    return layerError(cat("padding must be non-negative, got (", pairStr(opt_.top, opt_.bottom),
                          ", ", pairStr(opt_.left, opt_.right), ")"));
  const Shape& in = inputs[0];
  return Shape{in[0] + opt_.top + opt_.bottom, in[1] + opt_.left + opt_.right, in[2]};
}

// out[n, top + h, left + w, c] = x[n, h, w, c]; zero elsewhere
void ZeroPadding2D::forward(TensorList in, Tensor& out, const RunContext&) {
  const Shape& s = inputShapes()[0];
  const int N = in[0]->dim(0), H = s[0], W = s[1], C = s[2];
  const int OH = outputShape()[0], OW = outputShape()[1];
  out.resize(outputShape().withBatch(N));
  const float* x = in[0]->data();
  float* y = out.data();
  const size_t row = size_t(W) * C, orow = size_t(OW) * C;
#pragma omp parallel for schedule(static) if (N > 1)
  for (int n = 0; n < N; ++n) {
    float* yn = y + size_t(n) * OH * orow;
    std::fill_n(yn, size_t(opt_.top) * orow, 0.0f);
    for (int h = 0; h < H; ++h) {
      float* yr = yn + size_t(opt_.top + h) * orow;
      std::fill_n(yr, size_t(opt_.left) * C, 0.0f);
      std::copy_n(x + (size_t(n) * H + h) * row, row, yr + size_t(opt_.left) * C);
      std::fill_n(yr + size_t(opt_.left) * C + row, size_t(opt_.right) * C, 0.0f);
    }
    std::fill_n(yn + size_t(opt_.top + H) * orow, size_t(opt_.bottom) * orow, 0.0f);
  }
}

// dx[n, h, w, c] = dout[n, top + h, left + w, c]
void ZeroPadding2D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                             const RunContext&) {
  if (!din[0]) return;
  const Shape& s = inputShapes()[0];
  const int N = in[0]->dim(0), H = s[0], W = s[1], C = s[2];
  const int OH = outputShape()[0], OW = outputShape()[1];
  const size_t row = size_t(W) * C, orow = size_t(OW) * C;
  const float* dy = dout.data();
  float* dx = din[0]->data();
#pragma omp parallel for schedule(static) if (N > 1)
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      std::copy_n(dy + (size_t(n) * OH + opt_.top + h) * orow + size_t(opt_.left) * C, row,
                  dx + (size_t(n) * H + h) * row);
}

}  // namespace qat
