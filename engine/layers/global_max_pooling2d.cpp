#include "engine/layers/global_max_pooling2d.h"

namespace qat {

Expected<Shape> GlobalMaxPooling2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  const int C = inputs[0][2];
  return opt_.keepDims ? Shape{1, 1, C} : Shape{C};
}

void GlobalMaxPooling2D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Shape& s = inputShapes()[0];  // (H, W, C)
  const int N = in[0]->dim(0);
  out.resize(outputShape().withBatch(N));
  int32_t* arg = nullptr;
  if (ctx.training) {
    argmax_.resize(out.size());
    arg = argmax_.data();
  }
  globalMaxPoolForward(N, s[0] * s[1], s[2], in[0]->data(), out.data(), arg);
}

void GlobalMaxPooling2D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                                  const RunContext&) {
  if (!din[0]) return;
  const Shape& s = inputShapes()[0];
  globalMaxPoolBackward(in[0]->dim(0), s[0] * s[1], s[2], dout.data(), argmax_.data(),
                        din[0]->data());
}

}  // namespace qat
