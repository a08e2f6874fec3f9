#include "engine/layers/global_max_pooling1d.h"

namespace qat {

Expected<Shape> GlobalMaxPooling1D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = sequenceInputProblem(inputs); !p.empty()) return layerError(p);
  const int C = inputs[0][1];
  return opt_.keepDims ? Shape{1, C} : Shape{C};
}

// The L steps are the "pixels" of the global 2-D kernel: (N, L, C) -> (N, C).
void GlobalMaxPooling1D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Shape& s = inputShapes()[0];  // (L, C)
  const int N = in[0]->dim(0);
  out.resize(outputShape().withBatch(N));
  int32_t* arg = nullptr;
  if (ctx.training) {
    argmax_.resize(out.size());
    arg = argmax_.data();
  }
  globalMaxPoolForward(N, s[0], s[1], in[0]->data(), out.data(), arg);
}

// dx = 0 except dx[n, argmax[n, c], c] = dout[n, c]
void GlobalMaxPooling1D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                                  const RunContext&) {
  if (!din[0]) return;
  const Shape& s = inputShapes()[0];
  globalMaxPoolBackward(in[0]->dim(0), s[0], s[1], dout.data(), argmax_.data(), din[0]->data());
}

}  // namespace qat
