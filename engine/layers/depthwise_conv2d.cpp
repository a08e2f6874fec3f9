#include "engine/layers/depthwise_conv2d.h"

#include "engine/kernels/depthwise_conv2d.h"
#include "engine/layers/init.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

Expected<Shape> DepthwiseConv2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (opt_.depthMultiplier <= 0)
    return layerError(cat("depth_multiplier must be positive, got ", std::to_string(opt_.depthMultiplier)));
  if (auto p = windowProblem("kernel_size", opt_.kernelH, opt_.kernelW, opt_.strideH, opt_.strideW,
                             opt_.dilationH, opt_.dilationW);
      !p.empty())
    return layerError(p);
  const Shape& in = inputs[0];
  ConvGeometry g;
  g.H = in[0];
  g.W = in[1];
  g.Cin = in[2];
  g.KH = opt_.kernelH;
  g.KW = opt_.kernelW;
  g.Cout = in[2] * opt_.depthMultiplier;
  g.strideH = opt_.strideH;
  g.strideW = opt_.strideW;
  g.dilationH = opt_.dilationH;
  g.dilationW = opt_.dilationW;
  g.setPadding(opt_.padding);
  if (auto p = windowFitProblem("kernel", in, g.KH, g.KW, g.dilationH, g.dilationW, g.OH, g.OW);
      !p.empty())
    return layerError(p);
  geo_ = g;
  ensureParam(kernel_, "depthwise_kernel", Shape{g.KH, g.KW, g.Cin, opt_.depthMultiplier});
  if (opt_.useBias) ensureParam(bias_, "bias", Shape{g.Cout});
  return Shape{g.OH, g.OW, g.Cout};
}

void DepthwiseConv2D::initialize(Rng& rng) {
  // Keras fans for a (kh, kw, in, M) kernel: kh·kw·in and kh·kw·M.
  const int rf = geo_.KH * geo_.KW;
  glorotUniform(kernel_.value, rf * geo_.Cin, rf * opt_.depthMultiplier, rng);
  if (opt_.useBias) bias_.value.zero();
}

std::vector<Param*> DepthwiseConv2D::params() {
  if (opt_.useBias) return {&kernel_, &bias_};
  return {&kernel_};
}

// z (N, OH, OW, C·M) = depthwise(x (N, H, W, C), kernel) + bias ; out = act(z)
void DepthwiseConv2D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Tensor& x = *in[0];
  ConvGeometry g = geo_;
  g.N = x.dim(0);
  out.resize(outputShape().withBatch(g.N));
  const bool keepPre = opt_.activation != ActivationFn::Linear;
  Tensor& z = (keepPre && ctx.training) ? preact_ : out;
  if (&z != &out) z.resize(out.shape());
  depthwiseConv2dForward(g, x.data(), kernel_.value.data(),
                         opt_.useBias ? bias_.value.data() : nullptr, z.data(), ws_);
  if (keepPre) activationForward(opt_.activation, z.data(), out.data(), out.size(), g.Cout);
}

// dz = dout ⊙ act'(z); dx, dkernel, dbias from the depthwise backward kernel
void DepthwiseConv2D::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                               const RunContext&) {
  const Tensor& x = *in[0];
  ConvGeometry g = geo_;
  g.N = x.dim(0);
  const float* dz = dout.data();
  if (opt_.activation != ActivationFn::Linear) {
    dz_.resize(dout.shape());
    activationBackward(opt_.activation, preact_.data(), out.data(), dout.data(), dz_.data(),
                       dout.size(), g.Cout);
    dz = dz_.data();
  }
  float* dk = kernel_.trainable ? kernel_.grad.data() : nullptr;
  float* db = opt_.useBias && bias_.trainable ? bias_.grad.data() : nullptr;
  depthwiseConv2dBackward(g, x.data(), kernel_.value.data(), dz,
                          din[0] ? din[0]->data() : nullptr, dk, db, ws_);
}

}  // namespace qat
