#include "engine/layers/separable_conv2d.h"

#include "engine/kernels/depthwise_conv2d.h"
#include "engine/layers/conv_window.h"
#include "engine/layers/init.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

Expected<Shape> SeparableConv2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (opt_.filters <= 0) return layerError(cat("filters must be positive, got ", std::to_string(opt_.filters)));
  if (opt_.depthMultiplier <= 0)
    return layerError(cat("depth_multiplier must be positive, got ", std::to_string(opt_.depthMultiplier)));
  if (auto p = convWindowProblem(opt_); !p.empty()) return layerError(p);
  const Shape& in = inputs[0];
  const ConvGeometry d = convWindowGeometry(opt_, in[0], in[1], in[2], in[2] * opt_.depthMultiplier);
  if (auto p = kernelFitProblem(in, d); !p.empty()) return layerError(p);
  ConvGeometry pw;  // 1x1, stride 1, unpadded: the sgemm-only path
  pw.H = d.OH;
  pw.W = d.OW;
  pw.Cin = d.Cout;
  pw.Cout = opt_.filters;
  pw.setPadding(Padding::Valid);
  dgeo_ = d;
  pgeo_ = pw;
  ensureParam(depthwise_, "depthwise_kernel", Shape{d.KH, d.KW, d.Cin, opt_.depthMultiplier});
  ensureParam(pointwise_, "pointwise_kernel", Shape{1, 1, d.Cout, opt_.filters});
  if (opt_.useBias) ensureParam(bias_, "bias", Shape{opt_.filters});
  return Shape{d.OH, d.OW, opt_.filters};
}

void SeparableConv2D::initialize(Rng& rng) {
  // Keras fans for a (kh, kw, a, b) kernel: kh·kw·a and kh·kw·b.
  const int rf = dgeo_.KH * dgeo_.KW;
  glorotUniform(depthwise_.value, rf * dgeo_.Cin, rf * opt_.depthMultiplier, rng);
  glorotUniform(pointwise_.value, pgeo_.Cin, pgeo_.Cout, rng);
  if (opt_.useBias) bias_.value.zero();
}

std::vector<Param*> SeparableConv2D::params() {
  return kernelsThenBias({&depthwise_, &pointwise_}, bias_, opt_.useBias);
}

// mid = depthwise(x) ; z = mid · pointwise + bias ; out = act(z)
void SeparableConv2D::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Tensor& x = *in[0];
  const int N = x.dim(0);
  ConvGeometry d = dgeo_, p = pgeo_;
  d.N = p.N = N;
  mid_.resize(Shape{N, d.OH, d.OW, d.Cout});
  depthwiseConv2dForward(d, x.data(), depthwise_.value.data(), nullptr, mid_.data(), ws_);
  out.resize(outputShape().withBatch(N));
  Tensor& z = act_.preactTarget(out, ctx);
  conv2dForward(p, mid_.data(), pointwise_.value.data(),
                opt_.useBias ? bias_.value.data() : nullptr, z.data(), ws_);
  act_.finishForward(out);
}

// dz = dout ⊙ act'(z) ; dmid = dz · pointwiseᵀ, dpointwise += midᵀ · dz, dbias += Σ dz ;
// then the depthwise backward from dmid gives dx and ddepthwise.
void SeparableConv2D::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                               const RunContext&) {
  const Tensor& x = *in[0];
  const int N = x.dim(0);
  ConvGeometry d = dgeo_, p = pgeo_;
  d.N = p.N = N;
  const float* dz = act_.gradientBeforeActivation(out, dout);
  dmid_.resize(mid_.shape());
  float* dp = pointwise_.trainable ? pointwise_.grad.data() : nullptr;
  float* db = opt_.useBias && bias_.trainable ? bias_.grad.data() : nullptr;
  conv2dBackward(p, mid_.data(), pointwise_.value.data(), dz, dmid_.data(), dp, db, ws_);
  float* dd = depthwise_.trainable ? depthwise_.grad.data() : nullptr;
  depthwiseConv2dBackward(d, x.data(), depthwise_.value.data(), dmid_.data(),
                          din[0] ? din[0]->data() : nullptr, dd, nullptr, ws_);
}

}  // namespace qat
