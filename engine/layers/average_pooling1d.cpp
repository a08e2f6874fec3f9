#include "engine/layers/average_pooling1d.h"

namespace qat {

Expected<Shape> AveragePooling1D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = sequenceInputProblem(inputs); !p.empty()) return layerError(p);
  if (auto p = pool1dGeometry(opt_, inputs[0], geo_); !p.empty()) return layerError(p);
  return Shape{geo_.OW, geo_.C};
}

// out (N, OL, C) = window means of x (N, L, C)
void AveragePooling1D::forward(TensorList in, Tensor& out, const RunContext&) {
  PoolGeometry g = geo_;
  g.N = in[0]->dim(0);
  out.resize(outputShape().withBatch(g.N));
  avgPool2dForward(g, in[0]->data(), out.data());
}

// every step of a window receives dout / (real steps in that window)
void AveragePooling1D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                                const RunContext&) {
  if (!din[0]) return;
  PoolGeometry g = geo_;
  g.N = in[0]->dim(0);
  avgPool2dBackward(g, dout.data(), din[0]->data());
}

}  // namespace qat
