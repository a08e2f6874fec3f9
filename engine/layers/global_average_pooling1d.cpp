#include "engine/layers/global_average_pooling1d.h"

namespace qat {

Expected<Shape> GlobalAveragePooling1D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = sequenceInputProblem(inputs); !p.empty()) return layerError(p);
  const int C = inputs[0][1];
  return opt_.keepDims ? Shape{1, C} : Shape{C};
}

// The L steps are the "pixels" of the global 2-D kernel: (N, L, C) -> (N, C).
void GlobalAveragePooling1D::forward(TensorList in, Tensor& out, const RunContext&) {
  const Shape& s = inputShapes()[0];  // (L, C)
  const int N = in[0]->dim(0);
  out.resize(outputShape().withBatch(N));
  globalAvgPoolForward(N, s[0], s[1], in[0]->data(), out.data());
}

// dx[n, l, c] = dout[n, c] / L
void GlobalAveragePooling1D::backward(TensorList in, const Tensor&, const Tensor& dout,
                                      GradList din, const RunContext&) {
  if (!din[0]) return;
  const Shape& s = inputShapes()[0];
  globalAvgPoolBackward(in[0]->dim(0), s[0], s[1], dout.data(), din[0]->data());
}

}  // namespace qat
