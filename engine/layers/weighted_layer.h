#pragma once
// Pieces shared by the weighted layers (Dense and the convolutions): their parameter list
// with an optional bias, and their optional in-layer `activation`.
#include <initializer_list>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"

namespace qat {

// The kernels in Keras order, then the bias when the layer has one (use_bias): the order
// engine/io relies on when it maps Keras weights to params().
inline std::vector<Param*> kernelsThenBias(std::initializer_list<Param*> kernels, Param& bias,
                                           bool useBias) {
  std::vector<Param*> ps(kernels);
  if (useBias) ps.push_back(&bias);
  return ps;
}

// The `activation` of a weighted layer, y = act(z), applied to its pre-activation z
// (kernel output + bias) inside the layer. Backward needs z (activationBackward's x), so
// when training with a non-linear activation z is kept in its own buffer; otherwise it is
// written straight into `out` and activated in place, which saves a tensor at inference.
//   forward:   Tensor& z = fused.preactTarget(out, ctx);  <write z>;  fused.finishForward(out);
//   backward:  const float* dz = fused.gradientBeforeActivation(out, dout);  <use dz>
// The activation's last axis (softmax rows) is the output's last axis: units / filters.
class FusedActivation {
 public:
  explicit FusedActivation(ActivationFn fn) : fn_(fn) {}

  // Where the layer writes z; `out` must already have the output shape.
  Tensor& preactTarget(Tensor& out, const RunContext& ctx) {
    zKept_ = fn_ != ActivationFn::Linear && ctx.training;
    if (!zKept_) return out;
    preact_.resize(out.shape());
    return preact_;
  }

  // out = act(z), z being the tensor preactTarget() returned (out itself: in place).
  void finishForward(Tensor& out) {
    if (fn_ == ActivationFn::Linear) return;
    const Tensor& z = zKept_ ? preact_ : out;
    activationForward(fn_, z.data(), out.data(), out.size(), lastDim(out));
  }

  // dz = dout ⊙ act'(z) for the kernel gradients; dout itself for a linear activation.
  // Uses the z kept by the last training forward.
  const float* gradientBeforeActivation(const Tensor& out, const Tensor& dout) {
    if (fn_ == ActivationFn::Linear) return dout.data();
    dz_.resize(dout.shape());
    activationBackward(fn_, preact_.data(), out.data(), dout.data(), dz_.data(), dout.size(),
                       lastDim(dout));
    return dz_.data();
  }

 private:
  static int lastDim(const Tensor& t) { return t.dim(t.rank() - 1); }

  ActivationFn fn_;
  bool zKept_ = false;  // the last forward wrote z into preact_ (not into out)
  Tensor preact_;       // z, output-shaped; training with a non-linear activation only
  Tensor dz_;           // output-shaped scratch for the activation's gradient
};

}  // namespace qat
