#pragma once
// SeparableConv2D: a depthwise convolution (no bias) followed by a 1x1 pointwise one,
//   mid = depthwise(x, depthwise_kernel)              (N, OH, OW, in·M)
//   y   = act(mid · pointwise_kernel + bias)          (N, OH, OW, filters)
// Params in Keras order: depthwise_kernel (kh, kw, in, M), pointwise_kernel
// (1, 1, in·M, filters), bias (filters).
#include "engine/kernels/conv2d.h"
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"
#include "engine/layers/weighted_layer.h"
#include "engine/layers/padding.h"

namespace qat {

struct SeparableConv2DOptions {
  int filters = 1;
  int kernelH = 3, kernelW = 3;
  int strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1;  // dilation > 1 requires stride 1 (as in Keras)
  Padding padding = Padding::Valid;
  int depthMultiplier = 1;
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

class SeparableConv2D : public Layer {
 public:
  SeparableConv2D(std::string name, SeparableConv2DOptions opt = {})
      : Layer(std::move(name)), opt_(opt), act_(opt.activation) {}
  OpType op() const override { return OpType::SeparableConv2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const SeparableConv2DOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Param& depthwiseKernel() { return depthwise_; }
  Param& pointwiseKernel() { return pointwise_; }
  Param& bias() { return bias_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  SeparableConv2DOptions opt_;
  Param depthwise_, pointwise_, bias_;
  ConvGeometry dgeo_, pgeo_;  // per sample (N = 0): depthwise, then pointwise 1x1
  Tensor mid_;      // (N, OH, OW, in·M) depthwise output, input of the pointwise step
  Tensor dmid_;     // (N, OH, OW, in·M) its gradient
  FusedActivation act_;  // opt_.activation on z (N, OH, OW, filters)
  ConvWorkspace ws_;
};

}  // namespace qat
