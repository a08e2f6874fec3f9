#include "engine/layers/leaky_relu.h"

#include "engine/kernels/elementwise.h"

namespace qat {

Expected<Shape> LeakyReLU::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  return inputs[0];
}

void LeakyReLU::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  // max(x, 0) + alpha · min(x, 0): x above 0, alpha · x below, for any alpha.
  const float a = opt_.alpha;
  kern::mapArray(x.data(), out.data(), x.size(),
                 [a](auto v, auto y) { y = v.max(0.0f) + a * v.min(0.0f); });
}

void LeakyReLU::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                         const RunContext&) {
  if (!din[0]) return;
  // f'(x) = 1 for x > 0, alpha otherwise.
  const float a = opt_.alpha;
  kern::mapArray2(in[0]->data(), dout.data(), din[0]->data(), dout.size(),
                  [a](auto v, auto g, auto d) {
                    // Two selects with a constant 0 branch vectorise; select(g, a·g) does not.
                    d = (v > 0.0f).select(g, 0.0f) + a * (v <= 0.0f).select(g, 0.0f);
                  });
}

}  // namespace qat
