#pragma once
// FoldedBatchNorm: Conv2D / DepthwiseConv2D / Dense (linear, i.e. no in-layer activation)
// followed by BatchNormalization, with the BN folded into the quantized weights during
// QAT (Jacob et al. 2018 §3.2; Krishnamoorthi 2018 §3.2.2; PyTorch's ConvBn2d).
//
// With s[c] = γ[c] / sqrt(moving_var[c] + ε) (per output channel c, the kernel's
// innermost axis; C·M for depthwise) and b the conv bias (0 without one):
//   training, BN live:   z = conv(x, q(W·s)) / s + b,   y = BN_batch(z)
//                        i.e. the folded weights are quantized with the moving σ and the
//                        batch statistics correct the output by σ/σ_B; the moving
//                        statistics update as in BatchNormalization.
//   frozen BN (after freezeBnStep training steps, at evaluation, and while this layer or
//   its BN is frozen, Layer::trainable() false, as Keras runs a frozen BN in inference mode):
//                        y = conv(x, q(W·s)) + (b − moving_mean)·s + β
//                        exactly what the integer export computes.
//   ctx.fakeQuant false: q is the identity, so the layer equals the unfolded conv → BN
//                        (batch statistics when training, moving ones otherwise).
// Gradients flow to W, b, γ, β through every use (s depends on γ; the moving statistics
// are constants), with the weight quantizer's straight-through estimator.
//
// Parameters: the conv's (kernel[, bias]), the BN's (gamma, beta, moving_mean,
// moving_variance), the quantizer state, then "step" (training steps seen, one float;
// frozen once step ≥ freezeBnStep). The conv and BN keep their own names and Keras
// layouts, so their float weights map back onto the original model.
#include <memory>
#include <vector>

#include "engine/layers/batch_normalization.h"
#include "engine/layers/layer.h"
#include "engine/quant/quantizer.h"

namespace qat::quant {

struct FoldOptions {
  // Training steps after which BN statistics freeze (PyTorch's freeze_bn_stats); < 0 never.
  long freezeBnStep = -1;
};

class FoldedBatchNorm : public Layer {
 public:
  // conv: a Conv2D, DepthwiseConv2D or Dense with linear activation; bn over its output
  // channels. weightQuantizer may be null (fold without quantizing, for tests).
  // The node takes the BN's name (its output is the BN's output).
  FoldedBatchNorm(std::unique_ptr<Layer> conv, std::unique_ptr<BatchNormalization> bn,
                  std::unique_ptr<Quantizer> weightQuantizer, FoldOptions opt = {});
  FoldedBatchNorm(const FoldedBatchNorm& o);
  OpType op() const override { return OpType::FoldedBatchNorm; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Layer& conv() { return *conv_; }
  const Layer& conv() const { return *conv_; }
  BatchNormalization& bn() { return *bn_; }
  const BatchNormalization& bn() const { return *bn_; }
  Quantizer* weightQuantizer() { return quant_.get(); }
  const Quantizer* weightQuantizer() const { return quant_.get(); }
  const FoldOptions& options() const { return opt_; }
  void setFreezeBnStep(long step) { opt_.freezeBnStep = step; }
  bool bnFrozen() const;

  // The folded float weights export uses: kernel W·s (conv layout) and bias
  // (b − moving_mean)·s + β, one per output channel.
  void foldedWeights(Tensor& kernel, Tensor& bias) const;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  std::unique_ptr<Layer> conv_;
  std::unique_ptr<BatchNormalization> bn_;
  std::unique_ptr<Quantizer> quant_;
  FoldOptions opt_;
  Param step_;

  // Everything below is derived state and scratch, sized by doBuild() and reused so that
  // training steps do not allocate.
  void bindConv();  // kernelP_/biasP_ ← conv_'s parameters (constructor, copy)
  void computeScales(bool live);
  void forwardLive(TensorList in, Tensor& out, const RunContext& ctx);
  void forwardFolded(TensorList in, Tensor& out, const RunContext& ctx);
  void backwardLive(TensorList in, const Tensor& dout, GradList din, const RunContext& ctx);
  void backwardFolded(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                      const RunContext& ctx);
  // dW += dWf·s and acc1_[c] = Σ dWf·W per channel, dWf = STE(dWq) (dWq in dk_).
  void kernelGradients(const RunContext& ctx);

  Param* kernelP_ = nullptr;  // conv_'s kernel / depthwise_kernel
  Param* biasP_ = nullptr;    // conv_'s bias; null without use_bias
  int channels_ = 0;          // C: output channels (filters, units, in·M)
  bool lastLive_ = false;     // the last forward normalised with batch statistics
  bool lastIdentity_ = false;  // ... and ran the plain conv (no quantizer / fakeQuant off)
  // (C) per output channel, set by forward() and used by the backward() after it (the
  // live forward moves the moving statistics, so backward must not recompute them):
  std::vector<float> s_;          // the fold scale used (see computeScales)
  std::vector<float> invS_;       // 1 / s_
  std::vector<float> invSigma_;   // 1 / sqrt(moving_var + ε)
  std::vector<float> foldBias_;   // (b − moving_mean)·s + β
  std::vector<float> acc1_, acc2_;  // per-channel gradient sums
  std::vector<double> partial_;   // (threads, C) partial channel sums
  // Kernel-shaped: W·s, the conv's kernel slot (q(W·s), divided by s when live), the
  // conv's kernel-gradient slot, the quantizer's straight-through gradient.
  Tensor wf_, wq_, dk_, dwf_;
  Tensor bslot_, dbslot_;  // (C) the conv's bias value / gradient slots (folded path)
  Tensor z_, dz_;          // (N, ..., C) BN input z and its gradient (live path)
};

}  // namespace qat::quant
