#include "engine/layers/conv2d.h"

#include "engine/layers/conv_window.h"
#include "engine/layers/init.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

Expected<Shape> Conv2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (opt_.filters <= 0) return layerError(cat("filters must be positive, got ", std::to_string(opt_.filters)));
  if (auto p = convWindowProblem(opt_); !p.empty()) return layerError(p);
  const Shape& in = inputs[0];
  const ConvGeometry g = convWindowGeometry(opt_, in[0], in[1], in[2], opt_.filters);
  if (auto p = kernelFitProblem(in, g); !p.empty()) return layerError(p);
  geo_ = g;
  ensureParam(kernel_, "kernel", Shape{g.KH, g.KW, g.Cin, g.Cout});
  if (opt_.useBias) ensureParam(bias_, "bias", Shape{g.Cout});
  return Shape{g.OH, g.OW, g.Cout};
}

void Conv2D::initialize(Rng& rng) {
  // Keras fans for an HWIO kernel: receptive field kh·kw times in / out channels.
  const int rf = geo_.KH * geo_.KW;
  glorotUniform(kernel_.value, rf * geo_.Cin, rf * geo_.Cout, rng);
  if (opt_.useBias) bias_.value.zero();
}

std::vector<Param*> Conv2D::params() {
  return kernelsThenBias({&kernel_}, bias_, opt_.useBias);
}

// z (N, OH, OW, F) = conv(x (N, H, W, C), kernel) + bias ; out = act(z)
void Conv2D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  fusedConvForward(geo_, *in[0], kernel_, opt_.useBias ? &bias_ : nullptr, act_, ws_, outputShape(), out, ctx);
}

// dz = dout ⊙ act'(z); then dx = conv_backward_input(dz), dkernel += ..., dbias += Σ dz
void Conv2D::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                      const RunContext&) {
  fusedConvBackward(geo_, *in[0], kernel_, opt_.useBias ? &bias_ : nullptr, act_, ws_, out, dout, din[0]);
}

}  // namespace qat
