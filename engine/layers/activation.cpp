#include "engine/layers/activation.h"

namespace qat {

Expected<Shape> Activation::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  if (opt_.activation == ActivationFn::Softmax && inputs[0].rank() < 1)
    return layerError("softmax needs an input of rank >= 1 (per sample)");
  return inputs[0];
}

// Softmax normalises rows of the last axis; every other function is elementwise.
static int lastDimOf(const Shape& s) { return s.rank() > 0 ? s.back() : 1; }

void Activation::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  activationForward(opt_.activation, x.data(), out.data(), x.size(), lastDimOf(outputShape()));
}

void Activation::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                          const RunContext&) {
  if (!din[0]) return;
  // dx = dy · f'(x); f' may be written in terms of x (relu, gelu ...) or y (sigmoid, tanh).
  activationBackward(opt_.activation, in[0]->data(), out.data(), dout.data(), din[0]->data(),
                     dout.size(), lastDimOf(outputShape()));
}

}  // namespace qat
