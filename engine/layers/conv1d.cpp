#include "engine/layers/conv1d.h"

#include "engine/layers/init.h"
#include "engine/layers/conv_window.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

Expected<Shape> Conv1D::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const Shape& in = inputs[0];
  if (in.rank() != 2)
    return layerError(cat("needs a per-sample input of rank 2 (steps, channels), got ", in.str()));
  if (in[0] <= 0 || in[1] <= 0) return layerError(cat("input dimensions must be positive, got ", in.str()));
  if (opt_.filters <= 0) return layerError(cat("filters must be positive, got ", std::to_string(opt_.filters)));
  if (opt_.kernelSize <= 0)
    return layerError(cat("kernel_size must be positive, got ", std::to_string(opt_.kernelSize)));
  if (opt_.stride <= 0) return layerError(cat("strides must be positive, got ", std::to_string(opt_.stride)));
  if (opt_.dilation <= 0)
    return layerError(cat("dilation_rate must be positive, got ", std::to_string(opt_.dilation)));
  if (opt_.stride > 1 && opt_.dilation > 1)
    return layerError(cat("strides > 1 cannot be combined with dilation_rate > 1 (strides ",
                          std::to_string(opt_.stride), ", dilation_rate ", std::to_string(opt_.dilation), ")"));
  // The sequence as a one-row image: (N, 1, L, C), kernel (1, k, C, filters).
  ConvGeometry g;
  g.H = 1;
  g.W = in[0];
  g.Cin = in[1];
  g.KH = 1;
  g.KW = opt_.kernelSize;
  g.Cout = opt_.filters;
  g.strideW = opt_.stride;
  g.dilationW = opt_.dilation;
  switch (opt_.padding) {
    case Conv1DPadding::Valid: g.setPadding(Padding::Valid); break;
    case Conv1DPadding::Same: g.setPadding(Padding::Same); break;
    case Conv1DPadding::Causal: g.setPadding(0, 0, (opt_.kernelSize - 1) * opt_.dilation, 0); break;
  }
  if (g.OW <= 0)
    return layerError(cat("kernel of length ", std::to_string((opt_.kernelSize - 1) * opt_.dilation + 1),
                          " (dilated) is longer than the input sequence (", std::to_string(in[0]),
                          " steps) with 'valid' padding"));
  geo_ = g;
  ensureParam(kernel_, "kernel", Shape{g.KW, g.Cin, g.Cout});
  if (opt_.useBias) ensureParam(bias_, "bias", Shape{g.Cout});
  return Shape{g.OW, g.Cout};
}

void Conv1D::initialize(Rng& rng) {
  // Keras fans for a (k, in, out) kernel: receptive field k times in / out channels.
  glorotUniform(kernel_.value, geo_.KW * geo_.Cin, geo_.KW * geo_.Cout, rng);
  if (opt_.useBias) bias_.value.zero();
}

std::vector<Param*> Conv1D::params() {
  return kernelsThenBias({&kernel_}, bias_, opt_.useBias);
}

// z (N, OL, F) = conv(x (N, L, C) viewed as (N, 1, L, C), kernel) + bias ; out = act(z)
void Conv1D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  fusedConvForward(geo_, *in[0], kernel_, opt_.useBias ? &bias_ : nullptr, act_, ws_, outputShape(), out, ctx);
}

// dz = dout ⊙ act'(z); then the 2-D backward on the same (N, 1, L, C) view.
void Conv1D::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                      const RunContext&) {
  fusedConvBackward(geo_, *in[0], kernel_, opt_.useBias ? &bias_ : nullptr, act_, ws_, out, dout, din[0]);
}

}  // namespace qat
