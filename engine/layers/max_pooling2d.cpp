#include "engine/layers/max_pooling2d.h"

namespace qat {

Expected<Shape> MaxPooling2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (auto p = poolGeometry(opt_, inputs[0], geo_); !p.empty()) return layerError(p);
  return Shape{geo_.OH, geo_.OW, geo_.C};
}

// out (N, OH, OW, C) = window maxima of x (N, H, W, C)
void MaxPooling2D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
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
void MaxPooling2D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                            const RunContext&) {
  if (!din[0]) return;
  PoolGeometry g = geo_;
  g.N = in[0]->dim(0);
  maxPool2dBackward(g, dout.data(), argmax_.data(), din[0]->data());
}

}  // namespace qat
