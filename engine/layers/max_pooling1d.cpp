#include "engine/layers/max_pooling1d.h"

namespace qat {

Expected<Shape> MaxPooling1D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = sequenceInputProblem(inputs); !p.empty()) return layerError(p);
  if (auto p = pool1dGeometry(opt_, inputs[0], geo_); !p.empty()) return layerError(p);
  return Shape{geo_.OW, geo_.C};
}

// out (N, OL, C) = window maxima of x (N, L, C)
void MaxPooling1D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  PoolGeometry g = geo_;
  g.N = in[0]->dim(0);
  out.resize(outputShape().withBatch(g.N));
  int32_t* arg = nullptr;
  if (ctx.training) {
    argmax_.resize(out.size());
    arg = argmax_.data();
  }
  maxPool2dForward(g, in[0]->data(), out.data(), arg);
}

// dx = 0 except dx[argmax] += dout
void MaxPooling1D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                            const RunContext&) {
  if (!din[0]) return;
  PoolGeometry g = geo_;
  g.N = in[0]->dim(0);
  maxPool2dBackward(g, dout.data(), argmax_.data(), din[0]->data());
}

}  // namespace qat
