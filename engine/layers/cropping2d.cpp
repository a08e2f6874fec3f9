#include "engine/layers/cropping2d.h"

#include <algorithm>

#include "engine/layers/spatial_checks.h"

namespace qat {

Expected<Shape> Cropping2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  const std::string crop = cat("(", pairStr(opt_.top, opt_.bottom), ", ", pairStr(opt_.left, opt_.right), ")");
  if (opt_.top < 0 || opt_.bottom < 0 || opt_.left < 0 || opt_.right < 0)
    return layerError(cat("cropping must be non-negative, got ", crop));
  const Shape& in = inputs[0];
  const int oh = in[0] - opt_.top - opt_.bottom, ow = in[1] - opt_.left - opt_.right;
  if (oh <= 0 || ow <= 0)
    return layerError(cat("cropping ", crop, " removes the whole ", pairStr(in[0], in[1]), " input"));
  return Shape{oh, ow, in[2]};
}

// out[n, h, w, c] = x[n, top + h, left + w, c]
void Cropping2D::forward(TensorList in, Tensor& out, const RunContext&) {
  const Shape& s = inputShapes()[0];
  const int N = in[0]->dim(0), H = s[0], W = s[1], C = s[2];
  const int OH = outputShape()[0], OW = outputShape()[1];
  out.resize(outputShape().withBatch(N));
  const size_t row = size_t(W) * C, orow = size_t(OW) * C;
  const float* x = in[0]->data();
  float* y = out.data();
#pragma omp parallel for schedule(static) if (N > 1)
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < OH; ++h)
      std::copy_n(x + (size_t(n) * H + opt_.top + h) * row + size_t(opt_.left) * C, orow,
                  y + (size_t(n) * OH + h) * orow);
}

// dx[n, top + h, left + w, c] = dout[n, h, w, c]; zero in the cropped border
void Cropping2D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                          const RunContext&) {
  if (!din[0]) return;
  const Shape& s = inputShapes()[0];
  const int N = in[0]->dim(0), H = s[0], W = s[1], C = s[2];
  const int OH = outputShape()[0], OW = outputShape()[1];
  const size_t row = size_t(W) * C, orow = size_t(OW) * C;
  const float* dy = dout.data();
  float* dx = din[0]->data();
  std::fill_n(dx, din[0]->size(), 0.0f);
#pragma omp parallel for schedule(static) if (N > 1)
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < OH; ++h)
      std::copy_n(dy + (size_t(n) * OH + h) * orow, orow,
                  dx + (size_t(n) * H + opt_.top + h) * row + size_t(opt_.left) * C);
}

}  // namespace qat
