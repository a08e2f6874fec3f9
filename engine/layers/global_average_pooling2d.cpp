#include "engine/layers/global_average_pooling2d.h"

namespace qat {

Expected<Shape> GlobalAveragePooling2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  const int C = inputs[0][2];
  return opt_.keepDims ? Shape{1, 1, C} : Shape{C};
}

void GlobalAveragePooling2D::forward(TensorList in, Tensor& out, const RunContext&) {
  const Shape& s = inputShapes()[0];  // (H, W, C)
  const int N = in[0]->dim(0);
  out.resize(outputShape().withBatch(N));
  globalAvgPoolForward(N, s[0] * s[1], s[2], in[0]->data(), out.data());
}

void GlobalAveragePooling2D::backward(TensorList in, const Tensor&, const Tensor& dout,
                                      GradList din, const RunContext&) {
  if (!din[0]) return;
  const Shape& s = inputShapes()[0];
  globalAvgPoolBackward(in[0]->dim(0), s[0] * s[1], s[2], dout.data(), din[0]->data());
}

}  // namespace qat
