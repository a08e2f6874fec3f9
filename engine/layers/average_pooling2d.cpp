#include "engine/layers/average_pooling2d.h"

namespace qat {

Expected<Shape> AveragePooling2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (auto p = poolGeometry(opt_, inputs[0], geo_); !p.empty()) return layerError(p);
  return Shape{geo_.OH, geo_.OW, geo_.C};
}

// out (N, OH, OW, C) = window means of x (N, H, W, C)
void AveragePooling2D::forward(TensorList in, Tensor& out, const RunContext&) {
  PoolGeometry g = geo_;
  g.N = in[0]->dim(0);
  out.resize(outputShape().withBatch(g.N));
  avgPool2dForward(g, in[0]->data(), out.data());
}

// every cell of a window receives dout / (real cells in that window)
void AveragePooling2D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                                const RunContext&) {
  if (!din[0]) return;
  PoolGeometry g = geo_;
  g.N = in[0]->dim(0);
  avgPool2dBackward(g, dout.data(), din[0]->data());
}

}  // namespace qat
