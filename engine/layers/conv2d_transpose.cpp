#include "engine/layers/conv2d_transpose.h"

#include <algorithm>

#include "engine/layers/conv_window.h"
#include "engine/layers/init.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

namespace {

// Keras' conv_utils.deconv_output_length for one axis (see the header); outPad < 0: None.
long long deconvOutputLength(int in, int kernel, Padding p, int outPad, int stride, int dilation) {
  const long long effK = (kernel - 1LL) * dilation + 1;
  if (outPad < 0) return p == Padding::Valid ? in * 1LL * stride + std::max(effK - stride, 0LL) : in * 1LL * stride;
  const long long pad = p == Padding::Same ? effK / 2 : 0;
  return (in - 1LL) * stride + effK - 2 * pad + outPad;
}

}  // namespace

Expected<Shape> Conv2DTranspose::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (opt_.filters <= 0) return layerError(cat("filters must be positive, got ", std::to_string(opt_.filters)));
  if (auto p = convWindowProblem(opt_); !p.empty()) return layerError(p);
  int opH = -1, opW = -1;
  if (opt_.outputPadding) {
    opH = (*opt_.outputPadding)[0];
    opW = (*opt_.outputPadding)[1];
    if (opH < 0 || opW < 0 || opH >= opt_.strideH || opW >= opt_.strideW)
      return layerError(cat("output_padding ", pairStr(opH, opW), " must be >= 0 and smaller than the strides ",
                            pairStr(opt_.strideH, opt_.strideW)));
  }
  const Shape& in = inputs[0];
  const long long oh = deconvOutputLength(in[0], opt_.kernelH, opt_.padding, opH, opt_.strideH, opt_.dilationH);
  const long long ow = deconvOutputLength(in[1], opt_.kernelW, opt_.padding, opW, opt_.strideW, opt_.dilationW);
  if (oh <= 0 || ow <= 0 || oh * ow * opt_.filters > (1LL << 31))
    return layerError(cat("the output size (", std::to_string(oh), ", ", std::to_string(ow),
                          ") for the input ", in.str(), " is not usable"));
  // The conv this layer transposes: (OH, OW, filters) -> (H, W, in).
  const ConvGeometry g = convWindowGeometry(opt_, int(oh), int(ow), opt_.filters, in[2]);
  // TensorFlow refuses the same mismatch (conv2d_backprop_input: sizes do not match),
  // e.g. 'same' padding, an even kernel and output_padding 0.
  if (g.OH != in[0] || g.OW != in[1])
    return layerError(cat("with these kernel_size, strides, padding and output_padding the output (",
                          std::to_string(oh), ", ", std::to_string(ow), ") does not map back onto the input ",
                          pairStr(in[0], in[1]), "; TensorFlow rejects this configuration too"));
  geo_ = g;
  ensureParam(kernel_, "kernel", Shape{g.KH, g.KW, g.Cin, g.Cout});
  if (opt_.useBias) ensureParam(bias_, "bias", Shape{g.Cin});
  return Shape{g.H, g.W, g.Cin};
}

void Conv2DTranspose::initialize(Rng& rng) {
  // Keras fans for the (kh, kw, filters, in) kernel: receptive field times its last two axes.
  const int rf = geo_.KH * geo_.KW;
  glorotUniform(kernel_.value, rf * geo_.Cin, rf * geo_.Cout, rng);
  if (opt_.useBias) bias_.value.zero();
}

std::vector<Param*> Conv2DTranspose::params() {
  return kernelsThenBias({&kernel_}, bias_, opt_.useBias);
}

// z (N, OH, OW, F) = conv_g backward-input of x (N, H, W, C) + bias ; out = act(z)
void Conv2DTranspose::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Tensor& x = *in[0];
  ConvGeometry g = geo_;
  g.N = x.dim(0);
  out.resize(outputShape().withBatch(g.N));
  Tensor& z = act_.preactTarget(out, ctx);
  // The conv's "dy" is x; its "dx" is z (overwritten). No filter gradient: the conv's
  // own input is not needed.
  conv2dBackward(g, nullptr, kernel_.value.data(), x.data(), z.data(), nullptr, nullptr, ws_);
  if (opt_.useBias) {
    const int F = g.Cin;
    const float* b = bias_.value.data();
    float* zp = z.data();
    for (size_t r = 0, rows = z.size() / size_t(F); r < rows; ++r)
      for (int f = 0; f < F; ++f) zp[r * F + f] += b[f];
  }
  act_.finishForward(out);
}

// dz = dout ⊙ act'(z); dx = conv_g(dz); dkernel += filter grad of conv_g with input dz and
// output gradient x; dbias += Σ_{n, oh, ow} dz.
void Conv2DTranspose::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                               const RunContext&) {
  const Tensor& x = *in[0];
  ConvGeometry g = geo_;
  g.N = x.dim(0);
  const int F = g.Cin;
  const float* dz = act_.gradientBeforeActivation(out, dout);
  if (din[0]) conv2dForward(g, dz, kernel_.value.data(), nullptr, din[0]->data(), ws_);
  if (kernel_.trainable)
    conv2dBackward(g, dz, kernel_.value.data(), x.data(), nullptr, kernel_.grad.data(), nullptr, ws_);
  if (opt_.useBias && bias_.trainable) {
    float* db = bias_.grad.data();
    for (size_t r = 0, rows = dout.size() / size_t(F); r < rows; ++r)
      for (int f = 0; f < F; ++f) db[f] += dz[r * F + f];
  }
}

}  // namespace qat
