#pragma once
// Set-up shared by the 2-D convolution layers whose options carry kernelH/W, strideH/W,
// dilationH/W and a TF padding (Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose):
// the window checks and the ConvGeometry those options describe; and the forward/backward
// of a layer that is one fast convolution plus its in-layer activation (Conv2D, and
// Conv1D, which runs the same kernels on an (N, 1, L, C) view).
#include <string>

#include "engine/kernels/conv2d.h"
#include "engine/layers/layer.h"
#include "engine/layers/spatial_checks.h"
#include "engine/layers/weighted_layer.h"

namespace qat {

// kernel_size, strides and dilation_rate of the options, as Keras checks them.
template <class Options>
std::string convWindowProblem(const Options& o) {
  return windowProblem("kernel_size", o.kernelH, o.kernelW, o.strideH, o.strideW, o.dilationH,
                       o.dilationW);
}

// The per-sample (N = 0) geometry of a conv over an (H, W, Cin) image giving Cout channels,
// with the options' window and padding (OH, OW resolved; 0 when the kernel does not fit).
template <class Options>
ConvGeometry convWindowGeometry(const Options& o, int H, int W, int Cin, int Cout) {
  ConvGeometry g;
  g.H = H;
  g.W = W;
  g.Cin = Cin;
  g.KH = o.kernelH;
  g.KW = o.kernelW;
  g.Cout = Cout;
  g.strideH = o.strideH;
  g.strideW = o.strideW;
  g.dilationH = o.dilationH;
  g.dilationW = o.dilationW;
  g.setPadding(o.padding);
  return g;
}

// The output of g over the input `in` would be empty ('valid' padding, kernel too large).
inline std::string kernelFitProblem(const Shape& in, const ConvGeometry& g) {
  return windowFitProblem("kernel", in, g.KH, g.KW, g.dilationH, g.dilationW, g.OH, g.OW);
}

// z = conv(x, kernel) + bias ; out = act(z). `geo` is the per-sample geometry from build(),
// `outShape` the layer's per-sample output shape; bias may be null.
inline void fusedConvForward(ConvGeometry geo, const Tensor& x, const Param& kernel, const Param* bias,
                             FusedActivation& act, ConvWorkspace& ws, const Shape& outShape, Tensor& out,
                             const RunContext& ctx) {
  geo.N = x.dim(0);
  out.resize(outShape.withBatch(geo.N));
  Tensor& z = act.preactTarget(out, ctx);
  conv2dForward(geo, x.data(), kernel.value.data(), bias ? bias->value.data() : nullptr, z.data(), ws);
  act.finishForward(out);
}

// dz = dout ⊙ act'(z); then dx = conv_backward_input(dz) (when dx is not null),
// dkernel += ..., dbias += Σ dz. Frozen parameters have no grad buffer: skipped.
inline void fusedConvBackward(ConvGeometry geo, const Tensor& x, Param& kernel, Param* bias,
                              FusedActivation& act, ConvWorkspace& ws, const Tensor& out,
                              const Tensor& dout, Tensor* dx) {
  geo.N = x.dim(0);
  const float* dz = act.gradientBeforeActivation(out, dout);
  float* dk = kernel.trainable ? kernel.grad.data() : nullptr;
  float* db = bias && bias->trainable ? bias->grad.data() : nullptr;
  conv2dBackward(geo, x.data(), kernel.value.data(), dz, dx ? dx->data() : nullptr, dk, db, ws);
}

}  // namespace qat
